import { BatchSizeEstimator } from '../../src/index';
import type { BatchElementsConfig } from '../../src/index';

/** Runs the estimator against a model whose batches take `cost(size)` ms; returns the successive sizes. */
function sizes(config: BatchElementsConfig, count: number, cost = (n: number) => 1 + 0.7 * n): number[] {
  const estimator = new BatchSizeEstimator(config);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const size = estimator.nextBatchSize();
    out.push(size);
    estimator.recordTime(size, cost(size));
  }
  return out;
}

/** A deterministic random source cycling through the given values. */
function cycle(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

describe('BatchSizeEstimator', () => {
  it('settles where batch time excluding fixed cost meets targetBatchDurationMs (Beam: 1, 2, 4, 8, 14, 14, 14)', () => {
    expect(sizes({ targetBatchDurationMs: 10, targetBatchOverhead: null }, 7)).toEqual([1, 2, 4, 8, 14, 14, 14]);
  });

  it('settles where fixed overhead is targetBatchOverhead of batch time (Beam: 1, 2, 4, 8, 16, 27, 27, 27)', () => {
    expect(sizes({ targetBatchOverhead: 0.05, targetBatchDurationMs: null }, 8)).toEqual([1, 2, 4, 8, 16, 27, 27, 27]);
  });

  it('treats 0 like null for a disabled target (Beam checks falsiness)', () => {
    expect(sizes({ targetBatchOverhead: 0.05, targetBatchDurationMs: 0 }, 8)).toEqual([1, 2, 4, 8, 16, 27, 27, 27]);
    expect(sizes({ targetBatchDurationMs: 10, targetBatchOverhead: 0 }, 7)).toEqual([1, 2, 4, 8, 14, 14, 14]);
  });

  it('meets targetBatchDurationIncludingFixedCostMs (Beam: 1, 2, 4, 8, 12, 12, 12)', () => {
    // 1 + 0.7 · 12 = 9.4 <= 10 < 1 + 0.7 · 13; the default targetBatchDurationMs (10 s) does not bind.
    expect(sizes({ targetBatchOverhead: null, targetBatchDurationIncludingFixedCostMs: 10 }, 7)).toEqual([
      1, 2, 4, 8, 12, 12, 12,
    ]);
  });

  it('uses the tightest of several targets', () => {
    expect(
      sizes({ targetBatchOverhead: 0.05, targetBatchDurationMs: 10, targetBatchDurationIncludingFixedCostMs: 100 }, 7),
    ).toEqual([1, 2, 4, 8, 14, 14, 14]);
  });

  it('returns minBatchSize forever when minBatchSize === maxBatchSize', () => {
    expect(sizes({ minBatchSize: 10, maxBatchSize: 10 }, 30)).toEqual(new Array(30).fill(10));
  });

  it('starts at minBatchSize and forces variety on the second batch', () => {
    expect(sizes({ minBatchSize: 5 }, 2)).toEqual([5, 10]);
    expect(sizes({ minBatchSize: 5, maxBatchSize: 6 }, 2)).toEqual([5, 6]);
    // min · 2 capped by max, but never below min + 1.
    expect(sizes({ minBatchSize: 1, maxBatchSize: 2 }, 2)).toEqual([1, 2]);
  });

  it('grows at most ×2 per batch and never beyond maxBatchSize', () => {
    // Free work: the fit gives a ≈ 0, b ≈ 0, so only the growth cap and maxBatchSize bind.
    expect(sizes({ maxBatchSize: 100 }, 10, () => 0)).toEqual([1, 2, 4, 8, 16, 32, 64, 100, 100, 100]);
  });

  it('never goes below minBatchSize, alternating a +1 jitter with the parity of the data', () => {
    // Huge fixed cost and per-element cost: every target is below the minimum.
    const got = sizes({ minBatchSize: 3, targetBatchDurationMs: 1, targetBatchOverhead: null }, 8, (n) => 1000 * n);
    expect(got).toEqual([3, 6, 3, 4, 3, 4, 3, 4]);
  });

  it('smears the target by ±variance once it has more than 10 points, with the injected random', () => {
    const run = (random: number) =>
      sizes({ targetBatchDurationMs: 10, targetBatchOverhead: null, random: () => random }, 16).slice(11);
    // Target 14.28: +trunc(14.28 · 0.25 · 2 · (r − 0.5)) → r = 0.5: +0; r → 1: +3; r = 0: −3 (then truncated).
    expect(run(0.5)).toEqual([14, 14, 14, 14, 14]);
    expect(run(0.9999)).toEqual([17, 17, 17, 17, 17]);
    expect(run(0)).toEqual([11, 11, 11, 11, 11]);
  });

  it('keeps every jittered size within target · (1 ± variance) and the growth cap', () => {
    const random = cycle(0.1, 0.9, 0.35, 0.6, 0.0, 0.99);
    const got = sizes({ targetBatchDurationMs: 10, targetBatchOverhead: null, variance: 0.5, random }, 60);
    for (const size of got.slice(11)) {
      expect(size).toBeGreaterThanOrEqual(Math.floor(14.28 * 0.5) - 1);
      expect(size).toBeLessThanOrEqual(Math.ceil(14.29 * 1.5));
    }
    expect(new Set(got.slice(11)).size).toBeGreaterThan(2);
  });

  it('keeps a bounded history (fewer than 100 points after 1,000 records), thinning two points at a time', () => {
    const estimator = new BatchSizeEstimator({ random: cycle(0.3, 0.7, 0.1) });
    const counts: number[] = [];
    for (let i = 0; i < 1000; i++) {
      estimator.recordTime((i % 50) + 1, 1 + 0.7 * ((i % 50) + 1));
      counts.push(estimator.dataPoints);
    }
    expect(Math.max(...counts)).toBe(99);
    expect(counts[98]).toBe(99); // the 99th point is kept
    expect(counts[99]).toBe(98); // the 100th triggers thinning: 100 − 2, the parity is kept
    expect(estimator.dataPoints).toBeLessThan(100);
    expect(estimator.nextBatchSize()).toBeGreaterThanOrEqual(1);
  });

  it('thins with an injected random that returns values close to 1 without going out of range', () => {
    const estimator = new BatchSizeEstimator({ random: () => 0.999999999 });
    for (let i = 0; i < 300; i++) estimator.recordTime(1 + (i % 3), 2);
    expect(estimator.dataPoints).toBeLessThan(100);
  });

  it('fits flat data: all batches the same size gives time per element', () => {
    const estimator = new BatchSizeEstimator({ targetBatchDurationMs: 10, targetBatchOverhead: null });
    estimator.recordTime(4, 8); // 2 ms per element
    estimator.recordTime(4, 8);
    // b = 2: 10 / 2 = 5, capped by 4 · 2 = 8.
    expect(estimator.nextBatchSize()).toBe(5);
  });

  it('trims the top quantile of the data before fitting', () => {
    // 30 points at sizes 1..30 with a huge outlier at the largest sizes; trimming keeps the 24 smallest sizes.
    const estimator = new BatchSizeEstimator({ targetBatchDurationMs: 10, targetBatchOverhead: null });
    for (let n = 1; n <= 30; n++) estimator.recordTime(n, n > 24 ? 1e6 : 1 + 0.7 * n);
    // Without trimming the slope would be enormous (target ~ 0 → minimum); with it, b = 0.7 → 14 (± jitter 0.25).
    const next = estimator.nextBatchSize();
    expect(next).toBeGreaterThanOrEqual(10);
    expect(next).toBeLessThanOrEqual(18);
  });

  it('records time only as non-negative numbers', () => {
    const estimator = new BatchSizeEstimator();
    expect(() => estimator.recordTime(-1, 1)).toThrow(
      expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(/batchSize/) }),
    );
    expect(() => estimator.recordTime(1, Number.NaN)).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/elapsedMs/) }),
    );
    for (const bad of ['2', Infinity, -Infinity, -0.5]) {
      expect(() => estimator.recordTime(bad as unknown as number, 1)).toThrow(/batchSize/);
      expect(() => estimator.recordTime(1, bad as unknown as number)).toThrow(/elapsedMs/);
    }
    expect(estimator.dataPoints).toBe(0);
  });

  describe('config validation', () => {
    it('rejects minBatchSize > maxBatchSize naming both', () => {
      expect(() => new BatchSizeEstimator({ minBatchSize: 8, maxBatchSize: 4 })).toThrow(
        expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(/minBatchSize.*maxBatchSize/) }),
      );
    });
    it('rejects disabling every target', () => {
      expect(() => new BatchSizeEstimator({ targetBatchOverhead: null, targetBatchDurationMs: 0 })).toThrow(
        expect.objectContaining({
          name: 'RangeError',
          message: expect.stringMatching(/at least one of `targetBatchOverhead`/),
        }),
      );
    });
  });
});

describe('BatchSizeEstimator: the sorted copy of its history', () => {
  it('stays the history in Beam sort order through insertions and thinning (same sizes as sorting each time)', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const estimator = new BatchSizeEstimator({ random, maxBatchSize: 64 });
    type Columns = { sizes: Float64Array; times: Float64Array; length: number };
    const internals = estimator as unknown as { data: Columns; sorted: Columns };
    const points = ({ sizes, times, length }: Columns) =>
      Array.from({ length }, (_, i): [number, number] => [sizes[i], times[i]]);
    for (let i = 0; i < 500; i++) {
      const size = estimator.nextBatchSize();
      estimator.recordTime(size, Math.round((1 + 0.7 * size + random() * 3) * 4) / 4); // ties on purpose
      const expected = points(internals.data).sort((p, q) => p[0] - q[0] || p[1] - q[1]);
      expect(points(internals.sorted)).toEqual(expected);
      expect(estimator.dataPoints).toBe(internals.data.length);
    }
    expect(internals.data.length).toBeLessThan(100);
  });
});
