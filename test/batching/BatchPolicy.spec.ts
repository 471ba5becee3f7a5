import { BatchPolicy } from '../../src/batching/BatchPolicy';
import { BatchSizeEstimator } from '../../src/index';
import { resolveBatchConfig } from '../../src/batching/resolveBatchConfig';

describe('BatchPolicy', () => {
  const fixed = (size: number, extra = {}) =>
    resolveBatchConfig({ minBatchSize: size, maxBatchSize: size, random: () => 0.5, ...extra });

  it('calls a group full at the target count or at maxBatchWeight', () => {
    const policy = new BatchPolicy(resolveBatchConfig({ minBatchSize: 3, maxBatchSize: 3, maxBatchWeight: 10 }));
    expect(policy.target).toBe(3);
    expect(policy.isFull({ key: undefined, count: 2, weight: 2 })).toBe(false);
    expect(policy.isFull({ key: undefined, count: 3, weight: 3 })).toBe(true);
    expect(policy.isFull({ key: 'k', count: 1, weight: 10 })).toBe(true);
  });

  it("follows Beam's estimator: the same targets as a BatchSizeEstimator fed the same times", () => {
    const config = resolveBatchConfig({ maxBatchSize: 64, random: () => 0.5 });
    const policy = new BatchPolicy(config);
    const estimator = new BatchSizeEstimator(config);
    expect(policy.target).toBe(estimator.nextBatchSize());
    for (const [size, ms] of [
      [1, 1],
      [2, 1.1],
      [4, 1.3],
      [8, 1.7],
    ]) {
      policy.record(size, ms);
      estimator.recordTime(size, ms);
      expect(policy.target).toBe(estimator.nextBatchSize());
    }
  });

  it('single: every batch is one element, whatever is recorded', () => {
    const policy = new BatchPolicy(fixed(8), { single: true });
    expect(policy.target).toBe(1);
    policy.record(1, 5);
    policy.next();
    expect(policy.target).toBe(1);
    expect(policy.sizeFor(100)).toBe(1);
  });

  it('wholeBurst: after the first batch, a queue over twice the target goes whole, up to maxBatchSize', () => {
    const config = resolveBatchConfig({ maxBatchSize: 100, random: () => 0.5 });
    const policy = new BatchPolicy(config, { wholeBurst: true });
    expect(policy.sizeFor(500)).toBe(policy.target); // no data point yet: Beam's first size
    policy.record(1, 1);
    const target = policy.target;
    expect(policy.sizeFor(2 * target)).toBe(target);
    expect(policy.sizeFor(2 * target + 1)).toBe(2 * target + 1);
    expect(policy.sizeFor(500)).toBe(100);
    policy.record(50, 2);
    expect(policy.sizeFor(500)).toBe(policy.target); // only at the start
    // Without the option, the target only.
    const plain = new BatchPolicy(config);
    plain.record(1, 1);
    expect(plain.sizeFor(500)).toBe(plain.target);
  });

  it('times a partial batch by maxBatchDurationMs; without one it never expires by time', () => {
    expect(new BatchPolicy(fixed(4, { maxBatchDurationMs: 5 })).waitMs(10, 12)).toBe(3);
    expect(new BatchPolicy(fixed(4, { maxBatchDurationMs: 5 })).waitMs(10, 16)).toBe(-1);
    const unbounded = new BatchPolicy(fixed(4));
    expect(unbounded.timeBoundMs).toBeUndefined();
    expect(unbounded.waitMs(0, 1e12)).toBe(Infinity);
  });
});
