/**
 * A value that goes up and down (Beam's `Metrics.gauge`: the latest value wins), held in process by a
 * {@link MetricsRegistry}.
 *
 * @example
 * ```ts
 * import { defaultMetricsRegistry } from 'rxjs-inference';
 * defaultMetricsRegistry.gauge('RunInference/models_in_memory').set(2);
 * ```
 */
export class Gauge {
  private current = 0;

  /**
   * @param fullName `namespace/prefix+name`, the key in {@link MetricsRegistry.snapshot}.
   * @param namespace Beam's metric namespace.
   * @param name The base name.
   * @param prefix What tells this metric apart from others of the same name.
   */
  constructor(
    readonly fullName: string,
    readonly namespace: string,
    readonly name: string,
    readonly prefix: string,
  ) {}

  /** Sets the value. Non-finite values are ignored. */
  set(value: number): void {
    if (Number.isFinite(value)) this.current = value;
  }

  /** Adds `n` (default 1). */
  inc(n = 1): void {
    if (Number.isFinite(n)) this.current += n;
  }

  /** Subtracts `n` (default 1). */
  dec(n = 1): void {
    if (Number.isFinite(n)) this.current -= n;
  }

  /** The current value. */
  get value(): number {
    return this.current;
  }

  /** Sets the value back to 0. */
  reset(): void {
    this.current = 0;
  }
}
