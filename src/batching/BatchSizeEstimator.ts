import { checkNumber } from '../core/validate.js';
import type { BatchElementsConfig } from './BatchElementsConfig.js';
import { resolveBatchConfig } from './resolveBatchConfig.js';

// Beam's `_BatchSizeEstimator` constants (apache_beam/transforms/util.py).
const MAX_DATA_POINTS = 100;
const MAX_GROWTH_FACTOR = 2;

/**
 * `(size, elapsedMs)` points as two parallel columns, `length` of them in use: contiguous numbers rather than an array
 * object per point, so that the regression over them reads a few cache lines, not a hundred scattered objects (at low
 * load every batch is one element and pays the regression; issue 11, P3).
 */
class Points {
  readonly sizes = new Float64Array(MAX_DATA_POINTS);
  readonly times = new Float64Array(MAX_DATA_POINTS);
  length = 0;

  /** Inserts a point at index `at`, shifting the later ones up. */
  insert(at: number, size: number, elapsedMs: number): void {
    const { sizes, times } = this;
    sizes.copyWithin(at + 1, at, this.length);
    times.copyWithin(at + 1, at, this.length);
    sizes[at] = size;
    times[at] = elapsedMs;
    this.length++;
  }

  /** Removes the point at index `at`, shifting the later ones down. */
  remove(at: number): void {
    this.sizes.copyWithin(at, at + 1, this.length);
    this.times.copyWithin(at, at + 1, this.length);
    this.length--;
  }
}

/** The order Beam sorts its points in: by size, then by time. */
const byPoint = (size: number, elapsedMs: number, otherSize: number, otherElapsedMs: number): number =>
  size - otherSize || elapsedMs - otherElapsedMs;

/** Least-squares fit of y = a + b·x over the first `n` points (Beam's `linear_regression_no_numpy`). */
function linearRegression(points: Points, n: number): [a: number, b: number] {
  const { sizes, times } = points;
  let sumX = 0;
  let sumY = 0;
  let same = true;
  for (let i = 0; i < n; i++) {
    sumX += sizes[i];
    sumY += times[i];
    if (sizes[i] !== sizes[0]) same = false;
  }
  const xbar = sumX / n;
  const ybar = sumY / n;
  if (xbar === 0) return [ybar, 0];
  // All batches the same size: no slope to fit, so the mean time per element is the best guess.
  if (same) return [0, ybar / xbar];
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (sizes[i] - xbar) * (times[i] - ybar);
    sxx += (sizes[i] - xbar) ** 2;
  }
  const b = sxy / sxx;
  return [ybar - b * xbar, b];
}

/** Index of the first point of `sorted` not before `(size, elapsedMs)` (binary search). */
function lowerBound(sorted: Points, size: number, elapsedMs: number): number {
  const { sizes, times } = sorted;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byPoint(sizes[mid], times[mid], size, elapsedMs) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Picks the next batch size from how long past batches took: Beam's `_BatchSizeEstimator`, ported faithfully.
 *
 * It models batch time as `a + b·size` (fixed cost `a`, cost per element `b`) by linear regression over the recorded
 * `(size, elapsedMs)` points (sorted, and cut to the lowest `max(20, 4/5 of them)`: the top quantile is noisy), then
 * aims for the largest size that meets every enabled target:
 *
 * - `targetBatchDurationIncludingFixedCostMs` T: `a + b·size <= T`;
 * - `targetBatchDurationMs` T: `b·size <= T` (fixed cost excluded, as in Beam since 2.46);
 * - `targetBatchOverhead` o: `a / (a + b·size) <= o`.
 *
 * The size starts at `minBatchSize`, is forced to vary once (so a slope can be fitted), never more than doubles from
 * one batch to the next, stays within `[minBatchSize, maxBatchSize]`, alternates a +1 jitter to avoid sticking at one
 * size, and once there are more than 10 points is smeared by ±`variance` around the target (using `random`). History
 * is bounded: at 100 points two random points are dropped (which keeps the jitter's parity).
 *
 * With a model whose batches take `1 + 0.7·n` ms and only `targetBatchDurationMs: 10` (overhead `null`), successive
 * sizes are 1, 2, 4, 8, 14, 14, 14; with only `targetBatchOverhead: 0.05`, 1, 2, 4, 8, 16, 27, 27, 27.
 *
 * @example
 * ```ts
 * import { BatchSizeEstimator } from 'rxjs-inference';
 *
 * const estimator = new BatchSizeEstimator({ targetBatchDurationMs: 10, targetBatchOverhead: null });
 * const size = estimator.nextBatchSize(); // 1
 * estimator.recordTime(size, 1.7); // the batch of 1 took 1.7 ms
 * estimator.nextBatchSize(); // 2
 * ```
 */
export class BatchSizeEstimator {
  private readonly minBatchSize: number;
  private readonly maxBatchSize: number;
  private readonly targetBatchOverhead: number | null;
  private readonly targetBatchDurationMs: number | null;
  private readonly targetBatchDurationIncludingFixedCostMs: number | undefined;
  private readonly variance: number;
  private readonly random: () => number;
  /** Recorded `(size, elapsedMs)` points, oldest first. */
  private readonly data = new Points();
  /**
   * The same points kept in Beam's sort order (by size, then time), updated on each insertion and thinning, so that
   * the regression does not sort the whole history for every batch (it showed in the P6 profile; issue 11).
   */
  private readonly sorted = new Points();
  /**
   * The target before jitter, from the regression over `data`: computed once per `recordTime` rather than on every
   * `nextBatchSize` (sorting the history took 12–17 µs, paid per element at low load, where every batch is one).
   */
  private target: number | undefined;

  /**
   * @param config Only the estimator's fields are used (`minBatchSize`, `maxBatchSize`, the three targets,
   *   `variance`, `random`); the whole config is validated, throwing a `RangeError`/`TypeError` naming the field.
   */
  constructor(config?: BatchElementsConfig<any>) {
    const resolved = resolveBatchConfig(config);
    this.minBatchSize = resolved.minBatchSize;
    this.maxBatchSize = resolved.maxBatchSize;
    this.targetBatchOverhead = resolved.targetBatchOverhead;
    this.targetBatchDurationMs = resolved.targetBatchDurationMs;
    this.targetBatchDurationIncludingFixedCostMs = resolved.targetBatchDurationIncludingFixedCostMs;
    this.variance = resolved.variance;
    this.random = resolved.random;
  }

  /** Number of timing points currently kept (at most 99). */
  get dataPoints(): number {
    return this.data.length;
  }

  /**
   * Records how long a batch took.
   *
   * @param batchSize The batch's size (number of elements).
   * @param elapsedMs Its duration in milliseconds.
   */
  recordTime(batchSize: number, elapsedMs: number): void {
    // The checks' own work (options object, message choice) only when a value is not plainly valid: once per batch.
    if (!(typeof batchSize === 'number' && batchSize >= 0 && batchSize < Infinity))
      checkNumber('batchSize', batchSize, { min: 0 });
    if (!(typeof elapsedMs === 'number' && elapsedMs >= 0 && elapsedMs < Infinity))
      checkNumber('elapsedMs', elapsedMs, { min: 0 });
    this.data.insert(this.data.length, batchSize, elapsedMs);
    this.sorted.insert(lowerBound(this.sorted, batchSize, elapsedMs), batchSize, elapsedMs);
    if (this.data.length >= MAX_DATA_POINTS) this.thinData();
    this.target = undefined;
  }

  /**
   * The size the next batch should have, from the points recorded so far.
   *
   * @returns An integer in `[minBatchSize, maxBatchSize]`.
   */
  nextBatchSize(): number {
    const min = this.minBatchSize;
    const max = this.maxBatchSize;
    const data = this.data;
    if (min === max || data.length < 1) return min;
    // Force some variety so there are distinct batch sizes for the regression below.
    if (data.length < 2) return Math.trunc(Math.max(Math.min(max, min * MAX_GROWTH_FACTOR), min + 1));

    let target = (this.target ??= this.regressionTarget());
    const cap = Math.min(data.sizes[data.length - 1] * MAX_GROWTH_FACTOR, max);
    // Alternate a +1 jitter so the size does not get stuck (at the minimum especially), which would stop the
    // regression from extrapolating; then smear the samples across a range centred on the target.
    const jitter = data.length % 2;
    if (data.length > 10) target += Math.trunc(target * this.variance * 2 * (this.random() - 0.5));
    return Math.trunc(Math.max(min + jitter, Math.min(target, cap)));
  }

  /** The target batch size from the regression over the recorded points, before jitter and the growth cap. */
  private regressionTarget(): number {
    const sorted = this.sorted;
    // The top quantile tends to be noisy and has an outsized influence on the regression: with enough data, drop it.
    const kept = Math.min(sorted.length, Math.max(20, Math.floor((sorted.length * 4) / 5)));
    let [a, b] = linearRegression(sorted, kept);
    // Avoid nonsensical results or division by zero due to noise.
    a = Math.max(a, 1e-10);
    b = Math.max(b, 1e-20);

    let target = this.maxBatchSize;
    if (this.targetBatchDurationIncludingFixedCostMs !== undefined) {
      // Solution to a + b·x = T.
      target = Math.min(target, (this.targetBatchDurationIncludingFixedCostMs - a) / b);
    }
    if (this.targetBatchDurationMs !== null) {
      // Solution to b·x = T: the fixed cost is left out, as it would force the minimum size when it is large.
      target = Math.min(target, this.targetBatchDurationMs / b);
    }
    if (this.targetBatchOverhead !== null) {
      // Solution to a / (a + b·x) = o.
      target = Math.min(target, (a / b) * (1 / this.targetBatchOverhead - 1));
    }
    return target;
  }

  /** Beam's `_thin_data`: drop two random points (one from the oldest quarter), keeping the parity of the count. */
  private thinData(): void {
    this.drop(this.randomIndex(Math.floor(this.data.length / 4)));
    this.drop(this.randomIndex(Math.floor(this.data.length / 2)));
  }

  /** Removes point `index` (insertion order) from the history and from the sorted copy. */
  private drop(index: number): void {
    const size = this.data.sizes[index];
    const elapsedMs = this.data.times[index];
    this.data.remove(index);
    // Equal points are interchangeable for the regression: removing the first equal one keeps the copy exact.
    this.sorted.remove(lowerBound(this.sorted, size, elapsedMs));
  }

  /** Python's `random.randrange(n)` on the injected random source. */
  private randomIndex(n: number): number {
    return Math.min(n - 1, Math.floor(this.random() * n));
  }
}
