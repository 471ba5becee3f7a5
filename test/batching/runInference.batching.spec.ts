import { firstValueFrom, from, ignoreElements, range, tap, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { BatchElementsConfig } from '../../src/index';
import { modelHandler, runInference } from '../../src/index';

// Batching seen through runInference: the handler's batchConfig() merged with the operator's `batch` (operator wins
// field by field, a handler's batchKeyFn always applies), served by the same BatchQueue + BatchSizeEstimator.

function recordingHandler<T>(batchConfig?: BatchElementsConfig<T>, { async = false } = {}) {
  const batches: T[][] = [];
  const handler = modelHandler<T, T>({
    runInference: (batch) => {
      batches.push([...batch]);
      return async ? Promise.resolve(batch) : batch;
    },
    batchConfig,
  });
  return { handler, batches };
}

describe('batching through runInference', () => {
  it("uses the handler's batchConfig: min = max = 10 cuts 35 elements into [10, 10, 10, 5]", async () => {
    const { handler, batches } = recordingHandler<number>({ minBatchSize: 10, maxBatchSize: 10 });
    const out = await firstValueFrom(range(0, 35).pipe(runInference(handler, { metrics: false }), toArray()));
    expect(out).toEqual([...Array(35).keys()]);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 10, 5]);
  });

  it('a burst queued while the first batch runs skips the ramp: the second batch takes what is queued', async () => {
    const { handler, batches } = recordingHandler<number>(undefined, { async: true });
    const out = await firstValueFrom(range(0, 1000).pipe(runInference(handler, { metrics: false }), toArray()));
    expect(out).toEqual([...Array(1000).keys()]);
    expect(batches.map((b) => b.length)).toEqual([1, 999]); // Beam's ramp alone: 1, 2, 4, 8, … (10 model calls)
  });

  it('… up to maxBatchSize, and the estimator goes on from there (no ramp from 2)', async () => {
    const { handler, batches } = recordingHandler<number>({ maxBatchSize: 100 }, { async: true });
    await firstValueFrom(range(0, 1000).pipe(runInference(handler, { metrics: false }), toArray()));
    const sizes = batches.map((b) => b.length);
    expect(sizes.slice(0, 2)).toEqual([1, 100]);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(sizes.length).toBeLessThanOrEqual(12);
  });

  it("lets the operator's batch config override the handler's field by field", async () => {
    const { handler, batches } = recordingHandler<number>({ minBatchSize: 10, maxBatchSize: 10 });
    await firstValueFrom(
      range(0, 20).pipe(
        runInference(handler, { batch: { minBatchSize: 4, maxBatchSize: 4 }, metrics: false }),
        toArray(),
      ),
    );
    expect(batches.map((b) => b.length)).toEqual([4, 4, 4, 4, 4]);
  });

  it("always applies the handler's batchKeyFn, together with the operator's", async () => {
    const words = ['a', 'bb', 'C', 'DD', 'e', 'ff', 'G', 'HH', 'i', 'jj'];
    const { handler, batches } = recordingHandler<string>({
      minBatchSize: 100,
      maxBatchSize: 100,
      batchKeyFn: (w) => w.length, // e.g. a tensor shape: must never be mixed
    });
    const out = await firstValueFrom(
      from(words).pipe(
        runInference(handler, { batch: { batchKeyFn: (w) => w === w.toUpperCase() }, metrics: false }),
        toArray(),
      ),
    );
    expect(out).toEqual(words); // ordered output despite the regrouping
    expect(batches).toHaveLength(4);
    for (const batch of batches) {
      expect(new Set(batch.map((w) => `${w.length}/${w === w.toUpperCase()}`)).size).toBe(1);
    }
    expect(batches.flat().sort()).toEqual([...words].sort());
  });

  it('bounds batches by weight with elementSizeFn + maxBatchWeight', async () => {
    const { handler, batches } = recordingHandler<string>({ minBatchSize: 100, maxBatchSize: 100 });
    await firstValueFrom(
      from(['xx', 'yyy', 'z', 'wwwww', 'v', 'uuuuuuuuu', 'tt']).pipe(
        runInference(handler, { batch: { elementSizeFn: (s) => s.length, maxBatchWeight: 6 }, metrics: false }),
        toArray(),
      ),
    );
    expect(batches).toEqual([['xx', 'yyy', 'z'], ['wwwww', 'v'], ['uuuuuuuuu'], ['tt']]);
  });

  it('rejects a bad batch config when the operator is created', () => {
    const { handler } = recordingHandler<number>({ minBatchSize: 10 });
    expect(() => runInference(handler, { batch: { maxBatchSize: 5 } })).toThrow(
      expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(/maxBatchSize/) }),
    );
  });

  it('emits partial batches on the time bound, in virtual time', () => {
    const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    const { handler, batches } = recordingHandler<string>({ minBatchSize: 3, maxBatchSize: 3 });
    const emitted: Array<[frame: number, value: string]> = [];
    testScheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-abcd----e-|');
      const result = e1.pipe(
        runInference(handler, { batch: { maxBatchDurationMs: 3 }, scheduler: testScheduler, metrics: false }),
        tap((value) => emitted.push([testScheduler.now(), value])),
      );
      expectObservable(result.pipe(ignoreElements())).toBe('-----------|');
    });
    // Full at frame 3, d on its time bound (4 + 3), e flushed by completion at 11: as batchElements does.
    expect(batches).toEqual([['a', 'b', 'c'], ['d'], ['e']]);
    expect(emitted).toEqual([
      [3, 'a'],
      [3, 'b'],
      [3, 'c'],
      [7, 'd'],
      [11, 'e'],
    ]);
  });
});
