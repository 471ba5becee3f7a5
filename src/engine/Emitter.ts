import type { Subscriber } from 'rxjs';
import { left, right } from 'fp-ts/lib/Either.js';
import { Failed } from './Failed.js';
import { ReorderBuffer } from './ReorderBuffer.js';

/** Several outputs of one element (a `withNoBatching` element is a whole batch). */
export class Many {
  readonly #brand = true;
  constructor(readonly values: readonly unknown[]) {}

  /** A brand check: reads nothing from `value` (an output may be a revoked Proxy). */
  static is(value: unknown): value is Many {
    return typeof value === 'object' && value !== null && #brand in value;
  }
}

/** How failures leave the engine: as the stream's error (plain `runInference`) or as `Left` values. */
export type EngineMode = 'throw' | 'either';

/**
 * The output side of the engine: puts each element's outcome (an output, several outputs, or a `Failed`) in input
 * order when asked to, and delivers it as a plain value or an `Either`. In `'throw'` mode a failure is handed to
 * `fail` (which errors the stream) when its turn comes, so every earlier result is delivered first.
 */
export class Emitter {
  private readonly reorder: ReorderBuffer<unknown> | undefined;
  private readonly either: boolean;

  constructor(
    mode: EngineMode,
    ordered: boolean,
    private readonly subscriber: Subscriber<unknown>,
    private readonly fail: (error: Error) => void,
  ) {
    this.either = mode === 'either';
    this.reorder = ordered ? new ReorderBuffer<unknown>((entry) => this.emit(entry)) : undefined;
  }

  /** Outcomes waiting for an earlier element. */
  get waiting(): number {
    return this.reorder?.size ?? 0;
  }

  /** Element `seq` is done: deliver its outcome now or when its turn comes. */
  settle(seq: number, entry: unknown): void {
    if (this.subscriber.closed) return;
    if (this.reorder === undefined) this.emit(entry);
    else this.reorder.offer(seq, entry);
  }

  /**
   * Outputs of elements `seqs[lo..hi)`, `outputs[i - lo]` each (plain values, never a `Failed` or `Many`): those whose
   * turn it is go straight to the subscriber, the others wait in the reorder buffer.
   */
  settleOutputs(seqs: readonly number[], lo: number, hi: number, outputs: readonly unknown[]): void {
    const subscriber = this.subscriber;
    const reorder = this.reorder;
    const either = this.either;
    for (let i = lo; i < hi; i++) {
      if (subscriber.closed) return;
      const output = outputs[i - lo];
      if (reorder !== undefined && !reorder.take(seqs[i])) {
        reorder.offer(seqs[i], output);
        continue;
      }
      subscriber.next(either ? right(output) : output);
      reorder?.releaseParked();
    }
  }

  /** The output of element `seq` (a plain value, never a `Failed` or `Many`): as {@link settleOutputs} for one. */
  settleOutput(seq: number, output: unknown): void {
    const subscriber = this.subscriber;
    if (subscriber.closed) return;
    const reorder = this.reorder;
    if (reorder !== undefined && !reorder.take(seq)) {
      reorder.offer(seq, output);
      return;
    }
    subscriber.next(this.either ? right(output) : output);
    reorder?.releaseParked();
  }

  clear(): void {
    this.reorder?.clear();
  }

  private emit(entry: unknown): void {
    if (Many.is(entry)) {
      for (const value of entry.values) this.emitOne(value);
    } else {
      this.emitOne(entry);
    }
  }

  private emitOne(entry: unknown): void {
    const subscriber = this.subscriber;
    if (subscriber.closed) return;
    if (Failed.is(entry)) {
      if (this.either) subscriber.next(left(entry.record));
      else this.fail(entry.record.error);
    } else {
      subscriber.next(this.either ? right(entry) : entry);
    }
  }
}
