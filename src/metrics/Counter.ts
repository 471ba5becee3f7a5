/**
 * A monotonically increasing count (Beam's `Metrics.counter`), held in process by a {@link MetricsRegistry}.
 *
 * @example
 * ```ts
 * import { defaultMetricsRegistry } from 'rxjs-inference';
 * defaultMetricsRegistry.counter('MyStage/records').inc();
 * ```
 */
export class Counter {
  private count = 0;

  /**
   * @param fullName `namespace/prefix+name`, the key in {@link MetricsRegistry.snapshot}.
   * @param namespace Beam's metric namespace (e.g. `'RunInference'`).
   * @param name The base name (e.g. `'num_inferences'`).
   * @param prefix What tells this metric apart from others of the same name (a model name + `'_'`, a key group + `'-'`).
   */
  constructor(
    readonly fullName: string,
    readonly namespace: string,
    readonly name: string,
    readonly prefix: string,
  ) {}

  /** Adds `n` (default 1). Non-finite values are ignored so that one bad value cannot poison the total. */
  inc(n = 1): void {
    if (Number.isFinite(n)) this.count += n;
  }

  /** The current total. */
  get value(): number {
    return this.count;
  }

  /** Sets the total back to 0 (the object stays registered and valid). */
  reset(): void {
    this.count = 0;
  }
}
