import { isLeft, isRight } from 'fp-ts/lib/Either';
import { TestScheduler } from 'rxjs/testing';
import {
  InvalidExampleError,
  modelHandler,
  KeyedModelHandler,
  MaybeKeyedModelHandler,
  runInference,
  withExceptionHandling,
} from '../../src/index';
import type { KeyModelPathMapping } from '../../src/index';
import { countingHandler, newLog } from './helpers';

// Beam's keyed RunInference cases, run through the operator in virtual time. The scheduler is passed explicitly.
function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

type Pair<K> = readonly [K, number];

const plusOne = () => modelHandler({ runInference: (batch: readonly number[]) => batch.map((x) => x + 1) });

describe('keyed handlers through runInference', () => {
  it('modelHandler: x + 1 on [1, 5, 3, 10] → [2, 6, 4, 11]', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-(cd)-|', { a: 1, b: 5, c: 3, d: 10 });
      expectObservable(source.pipe(runInference(plusOne(), { scheduler, metrics: false }))).toBe('-a-b-(cd)-|', {
        a: 2,
        b: 6,
        c: 4,
        d: 11,
      });
    });
  });

  it('KeyedModelHandler(handler): [i, x] → [i, x + 1], one model for all keys', () => {
    const scheduler = testScheduler();
    const log = newLog();
    scheduler.run(({ cold, expectObservable }) => {
      const keyed = new KeyedModelHandler(countingHandler('m', (x) => x + 1, log));
      const source = cold<Pair<number>>('-a-b-(cd)-|', { a: [0, 1], b: [1, 5], c: [2, 3], d: [3, 10] });
      expectObservable(source.pipe(runInference(keyed, { scheduler, metrics: false }))).toBe('-a-b-(cd)-|', {
        a: [0, 2],
        b: [1, 6],
        c: [2, 4],
        d: [3, 11],
      });
    });
    expect(log.loads).toEqual(['m']);
    expect(log.releases).toEqual(['m']);
  });

  it('MaybeKeyedModelHandler: keyed and unkeyed elements in one stream', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const handler = new MaybeKeyedModelHandler<string, number, number, undefined>(plusOne());
      const source = cold<number | Pair<string>>('-a-(bc)-|', { a: 1, b: ['k', 5], c: 3 });
      expectObservable(source.pipe(runInference(handler, { scheduler, metrics: false }))).toBe('-a-(bc)-|', {
        a: 2,
        b: ['k', 6],
        c: 4,
      });
    });
  });

  it('key groups: key 0 → a model that always returns 200, keys 1–3 → x + 1, in input order', () => {
    const scheduler = testScheduler();
    const log = newLog();
    let spy: jest.SpyInstance | undefined;
    scheduler.run(({ cold, expectObservable }) => {
      const keyed = new KeyedModelHandler([
        { keys: [0], handler: countingHandler('always200', () => 200, log) },
        { keys: [1, 2, 3], handler: countingHandler('plusOne', (x) => x + 1, log) },
      ]);
      spy = jest.spyOn(keyed, 'runInference');
      const source = cold<Pair<number>>('(abcde)-f-|', {
        a: [1, 5],
        b: [0, 7],
        c: [2, 3],
        d: [3, 10],
        e: [0, 1],
        f: [0, 2],
      });
      expectObservable(source.pipe(runInference(keyed, { scheduler, metrics: false }))).toBe('(abcde)-f-|', {
        a: [1, 6],
        b: [0, 200],
        c: [2, 4],
        d: [3, 11],
        e: [0, 200],
        f: [0, 200],
      });
    });
    // Batches never mix groups; each group model loaded once, lazily, and released at the end.
    // Every batch the operator formed holds one group only (the handler's batch key).
    const groupsPerBatch = spy!.mock.calls.map(
      ([batch]) => new Set((batch as Pair<number>[]).map(([k]) => k === 0)).size,
    );
    expect(groupsPerBatch.length).toBeGreaterThanOrEqual(3);
    expect(groupsPerBatch.every((n) => n === 1)).toBe(true);
    // (Which batch goes first is the engine's business; what each model saw is not.)
    const seen = (name: string) => log.batches.filter((b) => b.model === name).flatMap((b) => b.batch);
    expect(seen('plusOne').sort((x, y) => x - y)).toEqual([3, 5, 10]);
    expect(seen('always200').sort((x, y) => x - y)).toEqual([1, 2, 7]);
    expect(log.loads.sort()).toEqual(['always200', 'plusOne']);
    expect(log.releases.sort()).toEqual(['always200', 'plusOne']);
  });

  it('maxModelsInMemory 1: 20 elements alternating between two groups evict and reload models', () => {
    const scheduler = testScheduler();
    const log = newLog();
    const names = 'abcdefghijklmnopqrst';
    const values: Record<string, Pair<string>> = {};
    const results: Record<string, Pair<string>> = {};
    [...names].forEach((name, i) => {
      values[name] = i % 2 === 0 ? ['a', i] : ['b', i];
      results[name] = i % 2 === 0 ? ['a', i + 1] : ['b', i * 10];
    });
    const marbles = `${names}|`;
    scheduler.run(({ cold, expectObservable }) => {
      const keyed = new KeyedModelHandler(
        [
          { keys: ['a'], handler: countingHandler('A', (x) => x + 1, log) },
          { keys: ['b'], handler: countingHandler('B', (x) => x * 10, log) },
        ],
        { maxModelsInMemory: 1 },
      );
      expectObservable(
        cold<Pair<string>>(marbles, values).pipe(runInference(keyed, { scheduler, metrics: false })),
      ).toBe(marbles, results);
    });
    expect(log.loads).toHaveLength(20);
    expect(log.loads).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'A' : 'B')));
    // 19 evictions, each released, and the last model released when the stream completed.
    expect(log.releases).toEqual(log.loads);
  });

  it('loads group models asynchronously, in virtual time, without a Promise in between', () => {
    const scheduler = testScheduler();
    let loads = 0;
    scheduler.run(({ cold, expectObservable }) => {
      const slowLoad = modelHandler<number, number, number>({
        loadModel: () => (loads++, cold('---(m|)', { m: 100 })),
        runInference: (batch, offset) => batch.map((x) => x + offset),
      });
      const keyed = new KeyedModelHandler([{ keys: ['k'], handler: slowLoad }]);
      const source = cold<Pair<string>>('a-b-----c|', { a: ['k', 1], b: ['k', 2], c: ['k', 3] });
      expectObservable(source.pipe(runInference(keyed, { scheduler, metrics: false }))).toBe('---(ab)-c|', {
        a: ['k', 101],
        b: ['k', 102],
        c: ['k', 103],
      });
    });
    expect(loads).toBe(1);
  });

  it('per-key refresh from the side input: a group split into two models, each result from its model', () => {
    const scheduler = testScheduler();
    const log = newLog();
    scheduler.run(({ cold, hot, expectObservable }) => {
      const tagged = (name: string) =>
        modelHandler<number, string, string>({
          loadModel: (path) => (log.loads.push(path ?? name), path ?? name),
          runInference: (batch, model, ctx) => batch.map((x) => `${model}@${ctx.modelId || 'default'}:${x}`),
          releaseModel: (model) => void log.releases.push(model),
        });
      const keyed = new KeyedModelHandler([
        { keys: [0], handler: tagged('zero') },
        { keys: [1, 2], handler: tagged('rest') },
      ]);
      const update: KeyModelPathMapping<number>[] = [
        { keys: [0], updatePath: 'zero/v2' },
        { keys: [1], updatePath: 'one/v2' },
        { keys: [2], updatePath: 'two/v2' },
      ];
      const source = cold<Pair<number>>('a-b-------c-d-e|', { a: [1, 1], b: [0, 2], c: [1, 3], d: [2, 4], e: [0, 5] });
      expectObservable(
        source.pipe(
          runInference(keyed, {
            scheduler,
            metrics: false,
            modelMetadata: hot('m-----u', { m: { modelId: '', modelName: '' }, u: update }),
          }),
        ),
      ).toBe('a-b-------c-d-e|', {
        a: [1, 'rest@default:1'],
        b: [0, 'zero@default:2'],
        c: [1, 'one/v2@one/v2:3'],
        d: [2, 'two/v2@two/v2:4'],
        e: [0, 'zero/v2@zero/v2:5'],
      });
    });
    expect(log.loads).toEqual(['rest', 'zero', 'one/v2', 'two/v2', 'zero/v2']);
    expect(log.releases.sort()).toEqual([...log.loads].sort());
  });

  it('an element whose key is in no group errors the stream with an error naming the key', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const keyed = new KeyedModelHandler([{ keys: ['x'], handler: plusOne() }]);
      const source = cold<Pair<string>>('a-b-c|', { a: ['x', 1], b: ['nope', 2], c: ['x', 3] });
      expectObservable(source.pipe(runInference(keyed, { scheduler, metrics: false }))).toBe(
        'a-#',
        { a: ['x', 2] },
        expect.objectContaining({ message: expect.stringContaining('`nope` (string)') }),
      );
    });
  });

  it("the failure is the handler's InvalidExampleError, with field 'key'", () => {
    const scheduler = testScheduler();
    let error: unknown;
    scheduler.run(({ cold }) => {
      const keyed = new KeyedModelHandler([{ keys: ['x'], handler: plusOne() }]);
      cold<Pair<string>>('a|', { a: ['nope', 2] })
        .pipe(runInference(keyed, { scheduler, metrics: false }))
        .subscribe({ error: (e: unknown) => (error = e) });
    });
    expect(error).toBeInstanceOf(InvalidExampleError);
    expect(error).toMatchObject({ field: 'key', position: 0 });
  });

  it('in exception mode, an element whose key is in no group is a dead letter; the others still get results', () => {
    const scheduler = testScheduler();
    const out: unknown[] = [];
    scheduler.run(({ cold }) => {
      const keyed = new KeyedModelHandler([{ keys: ['x', 'y'], handler: plusOne() }]);
      cold<Pair<string>>('(abcd)|', { a: ['x', 1], b: ['nope', 2], c: ['y', 3], d: ['x', 4] })
        .pipe(withExceptionHandling(runInference(keyed, { scheduler, metrics: false })))
        .subscribe((either) => out.push(either));
    });
    expect(out).toHaveLength(4);
    const [a, b, c, d] = out as Parameters<typeof isLeft>[0][];
    expect([a, c, d].map((e) => isRight(e!) && e.right)).toEqual([
      ['x', 2],
      ['y', 4],
      ['x', 5],
    ]);
    expect(isLeft(b!)).toBe(true);
    expect(isLeft(b!) && b.left).toMatchObject({
      stage: 'inference',
      element: ['nope', 2],
      error: expect.objectContaining({
        name: 'InvalidExampleError',
        field: 'key',
        message: expect.stringContaining('`nope`'),
      }),
    });
  });

  it('with batches in flight on two groups (concurrent 2, maxModelsInMemory 1), releases a model only after its batch', () => {
    const scheduler = testScheduler();
    const log = newLog();
    const releasesAt: Record<number, string[]> = {};
    scheduler.run(({ cold, expectObservable }) => {
      const slow = modelHandler<number, number, string>({
        loadModel: () => (log.loads.push('SLOW'), 'SLOW'),
        runInference: (batch) => cold('----(r|)', { r: batch.map((x) => -x) }),
        releaseModel: (model) => void log.releases.push(model),
      });
      const keyed = new KeyedModelHandler(
        [
          { keys: ['slow'], handler: slow },
          { keys: ['fast'], handler: countingHandler('FAST', (x) => x, log) },
        ],
        { maxModelsInMemory: 1 },
      );
      for (const frame of [2, 5]) scheduler.schedule(() => (releasesAt[frame] = [...log.releases]), frame);
      const source = cold<Pair<string>>('ab------|', { a: ['slow', 1], b: ['fast', 2] });
      expectObservable(source.pipe(runInference(keyed, { scheduler, metrics: false, concurrent: 2 }))).toBe(
        '----(ab)|',
        { a: ['slow', -1], b: ['fast', 2] },
      );
    });
    expect(log.loads).toEqual(['SLOW', 'FAST']);
    expect(releasesAt[2]).toEqual([]); // SLOW busy: kept beyond the bound
    expect(releasesAt[5]).toEqual(['SLOW']); // released when its batch finished
    expect(log.releases).toEqual(['SLOW', 'FAST']);
  });
});
