import type { GroupState } from './BatchGroup.js';
import { BatchSizeEstimator } from './BatchSizeEstimator.js';
import type { ResolvedBatchConfig } from './resolveBatchConfig.js';

/** How a `BatchPolicy` sizes batches beyond the estimator's target. */
export interface BatchPolicyOptions {
  /** Every batch is one element (`withNoBatching`: each element is a batch already). @default false */
  readonly single?: boolean;
  /**
   * Once the estimator has its first point, a group holding more than twice the target goes whole (up to
   * `maxBatchSize`), so a burst queued while the first batch ran does not wait for Beam's ramp. @default false
   */
  readonly wholeBurst?: boolean;
}

/**
 * The batching policy shared by `runInference` and `batchElements`: the target size (Beam's estimator, fed with the
 * time each batch took), when a group is full (its count reaches the target or its weight `maxBatchWeight`), how
 * many elements the next batch takes, and how long a partial batch may wait (`maxBatchDurationMs`; without it, a
 * partial batch goes at the end of the synchronous burst it arrived in — the callers schedule that).
 *
 * @example
 * ```ts
 * const policy = new BatchPolicy(resolveBatchConfig({ maxBatchSize: 64 }));
 * policy.isFull(queue.push(x)); // true once the group holds `policy.target` elements
 * policy.record(batch.length, elapsedMs); // feeds the estimator; the target moves
 * ```
 */
export class BatchPolicy {
  /** Elements the next batch aims for. */
  target: number;
  /** How long a partial batch may wait for more elements, in ms; `undefined`: until the end of its burst. */
  readonly timeBoundMs: number | undefined;
  private readonly estimator: BatchSizeEstimator;
  private readonly single: boolean;
  private readonly wholeBurst: boolean;
  private readonly maxSize: number;
  private readonly maxWeight: number;

  constructor(config: ResolvedBatchConfig<any>, options?: BatchPolicyOptions) {
    this.estimator = new BatchSizeEstimator(config);
    this.single = options?.single === true;
    this.wholeBurst = options?.wholeBurst === true;
    this.maxSize = config.maxBatchSize;
    this.maxWeight = config.maxBatchWeight;
    this.timeBoundMs = config.maxBatchDurationMs;
    this.target = this.single ? 1 : this.estimator.nextBatchSize();
  }

  /** Whether a group has enough for a batch: the target count or `maxBatchWeight`. */
  isFull(group: GroupState): boolean {
    return group.count >= this.target || group.weight >= this.maxWeight;
  }

  /** How many elements to take from a group holding `queued` now (see `wholeBurst`). */
  sizeFor(queued: number): number {
    const target = this.target;
    if (!this.wholeBurst || this.single || this.estimator.dataPoints !== 1) return target;
    return queued > 2 * target ? Math.min(queued, this.maxSize) : target;
  }

  /** A new target drawn from the estimator (its jitter moves it), as when a batch starts. */
  next(): void {
    if (!this.single) this.target = this.estimator.nextBatchSize();
  }

  /** A batch of `size` took `elapsedMs`: the estimator learns it and the target moves. */
  record(size: number, elapsedMs: number): void {
    if (this.single) return;
    this.estimator.recordTime(size, elapsedMs);
    this.target = this.estimator.nextBatchSize();
  }

  /** Milliseconds until a partial batch whose first element arrived at `arrivedAt` must go (≤ 0: now). */
  waitMs(arrivedAt: number, now: number): number {
    return arrivedAt + (this.timeBoundMs ?? Infinity) - now;
  }
}
