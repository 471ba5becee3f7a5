import type { SchedulerLike } from 'rxjs';

/** Elements whose keys differ never share a batch. */
export type BatchKey = string | number | boolean | bigint | undefined | null;

/**
 * How elements are grouped into batches (Beam's `BatchElements` / `batch_elements_kwargs`). All durations are in
 * milliseconds. Every field is optional; defaults are Beam's.
 */
export interface BatchElementsConfig<T = unknown> {
  /** Smallest batch the estimator asks for (a partial batch may still be flushed earlier). @default 1 */
  readonly minBatchSize?: number;
  /** Largest batch ever emitted. @default 10000 */
  readonly maxBatchSize?: number;
  /** Target share of batch time spent in fixed per-batch overhead; `null` or `0` disables this target. @default 0.05 */
  readonly targetBatchOverhead?: number | null;
  /** Target time per batch, excluding fixed cost; `null` or `0` disables this target. @default 10000 */
  readonly targetBatchDurationMs?: number | null;
  /** Target time per batch, including fixed cost. @default undefined (no target) */
  readonly targetBatchDurationIncludingFixedCostMs?: number;
  /** Jitter (±) around the target once the estimator has more than 10 data points, as a fraction. @default 0.25 */
  readonly variance?: number;
  /** Weight of one element, for `maxBatchWeight`. @default every element weighs 1 */
  readonly elementSizeFn?: (element: T) => number;
  /** Largest total weight of a batch (a single heavier element still forms a batch of one). @default Infinity */
  readonly maxBatchWeight?: number;
  /** Time bound: a partial batch is emitted this long after its first element. @default undefined (no bound) */
  readonly maxBatchDurationMs?: number;
  /** Elements with different keys never share a batch (e.g. tensor shape, length bucket). @default one key */
  readonly batchKeyFn?: (element: T) => BatchKey;
  /** Scheduler for every timer and clock reading. @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
  /** Random source in [0, 1) for the estimator's jitter (inject for determinism). @default Math.random */
  readonly random?: () => number;
}
