import { Distribution } from '../../src/metrics/Distribution';

const make = (): Distribution => new Distribution('NS/d', 'NS', 'd', '');

/** The exact q-quantile by the same rank rule (element at floor-rank q·(n−1) of the sorted values). */
function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))];
}

describe('Distribution', () => {
  it('is all zeros while empty', () => {
    expect(make().snapshot()).toEqual({ count: 0, sum: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 });
  });

  it('keeps exact count, sum, min, max and mean', () => {
    const d = make();
    for (const v of [5, 1, 9, 3]) d.update(v);
    expect(d.snapshot()).toMatchObject({ count: 4, sum: 18, min: 1, max: 9, mean: 4.5 });
    expect(d.quantile(0)).toBe(1);
    expect(d.quantile(1)).toBe(9);
  });

  it('gives one value back exactly (clamped to min/max)', () => {
    const d = make();
    d.update(12);
    expect(d.snapshot()).toEqual({ count: 1, sum: 12, min: 12, max: 12, mean: 12, p50: 12, p90: 12, p99: 12 });
  });

  it('gives percentiles within 1 % of the exact ones, for many value shapes', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const shapes: Record<string, () => number> = {
      uniform: () => 1 + random() * 1000,
      exponential: () => -Math.log(1 - random()) * 250,
      wide: () => Math.exp(random() * 40 - 10),
      integers: () => Math.floor(random() * 64) + 1,
    };
    for (const [shape, next] of Object.entries(shapes)) {
      const d = make();
      const values = Array.from({ length: 20000 }, next);
      for (const v of values) d.update(v);
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of [0.5, 0.9, 0.99]) {
        const exact = exactQuantile(sorted, q);
        const error = Math.abs(d.quantile(q) - exact) / exact;
        expect({ shape, q, ok: error <= Distribution.RELATIVE_ACCURACY + 1e-12 }).toEqual({ shape, q, ok: true });
      }
    }
  });

  it('handles zeros and negative values in order', () => {
    const d = make();
    for (const v of [-100, -10, 0, 0, 10, 100]) d.update(v);
    expect(d.quantile(0)).toBe(-100);
    // Rank rule: the element at floor(q·(n−1)) of the sorted values.
    expect(Math.abs(d.quantile(0.1) + 100) / 100).toBeLessThanOrEqual(0.01);
    expect(Math.abs(d.quantile(0.2) + 10) / 10).toBeLessThanOrEqual(0.01);
    expect(d.quantile(0.5)).toBe(0);
    expect(Math.abs(d.quantile(0.8) - 10) / 10).toBeLessThanOrEqual(0.01);
    expect(d.quantile(1)).toBe(100);
    expect(d.mean).toBe(0);
  });

  it('ignores non-finite values', () => {
    const d = make();
    d.update(NaN);
    d.update(Infinity);
    d.update(-Infinity);
    d.update(2);
    expect(d.snapshot()).toMatchObject({ count: 1, sum: 2, min: 2, max: 2 });
  });

  it('keeps memory bounded: at most MAX_BUCKETS buckets per sign, and the high percentiles stay accurate', () => {
    const d = make();
    // 1e-300 … 1e300 spans far more than 2048 buckets of 2 %.
    const values: number[] = [];
    for (let e = -300; e <= 300; e += 0.05) values.push(10 ** e);
    for (const v of values) {
      d.update(v);
      d.update(-v);
    }
    const stores = d as unknown as { positive: { buckets: Map<number, number> }; negative: typeof stores.positive };
    expect(stores.positive.buckets.size).toBeLessThanOrEqual(Distribution.MAX_BUCKETS);
    expect(stores.negative.buckets.size).toBeLessThanOrEqual(Distribution.MAX_BUCKETS);
    expect(stores.positive.buckets.size).toBeGreaterThan(Distribution.MAX_BUCKETS / 2);
    expect(d.count).toBe(values.length * 2);
    const sorted = [...values, ...values.map((v) => -v)].sort((a, b) => a - b);
    const p99 = exactQuantile(sorted, 0.99);
    expect(Math.abs(d.quantile(0.99) - p99) / p99).toBeLessThanOrEqual(0.01);
    const p1 = exactQuantile(sorted, 0.01);
    expect(Math.abs(d.quantile(0.01) - p1) / Math.abs(p1)).toBeLessThanOrEqual(0.01);
  });

  it('reset forgets everything', () => {
    const d = make();
    d.update(3);
    d.update(-3);
    d.reset();
    expect(d.snapshot()).toEqual(make().snapshot());
    d.update(7);
    expect(d.snapshot()).toMatchObject({ count: 1, min: 7, max: 7, p50: 7 });
  });
});

describe('Distribution histogram support (Prometheus buckets, OpenTelemetry feed)', () => {
  const make = (): Distribution => new Distribution('ns/d', 'ns', 'd', '');

  it('countAtMost: exact for values on a bound, at the extremes and for zero; cumulative', () => {
    const d = make();
    for (const v of [0, 1, 2, 3, 4, 4, 5, 8, 9, 1000]) d.update(v);
    expect([-1, 0, 1, 2, 4, 8, 16, 900, 1000, 1e6].map((le) => d.countAtMost(le))).toEqual([
      0, 1, 2, 3, 6, 8, 9, 9, 10, 10,
    ]);
    expect(make().countAtMost(10)).toBe(0);
  });

  it('countAtMost on many values is within the sketch accuracy of the true count', () => {
    const d = make();
    const values = Array.from({ length: 10_000 }, (_, i) => 0.1 + ((i * 7919) % 10_000) / 10);
    values.forEach((v) => d.update(v));
    for (const le of [1, 10, 100, 500, 999]) {
      const exact = values.filter((v) => v <= le).length;
      const nearBound = values.filter((v) => v > le && v <= le * 1.02).length;
      expect(d.countAtMost(le)).toBeGreaterThanOrEqual(exact);
      expect(d.countAtMost(le)).toBeLessThanOrEqual(exact + nearBound);
    }
  });

  it('observe feeds each finite value to the observers until stopped', () => {
    const d = make();
    const seen: number[] = [];
    const stop = d.observe((v) => seen.push(v));
    d.update(3);
    d.update(Number.NaN);
    d.update(-2);
    stop();
    d.update(5);
    expect(seen).toEqual([3, -2]);
  });
});
