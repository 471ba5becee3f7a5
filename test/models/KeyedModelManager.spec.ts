import { firstValueFrom, Subject, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ModelLoadError, modelHandler, KeyedModelHandler } from '../../src/index';
import { KeyedModelManager } from '../../src/models/KeyedModelManager';
import { outputsAsObservable } from '../../src/models/inferenceOutputs';
import { collectNow, context, countingHandler, managerOf, newLog, type Log } from './helpers';

function twoGroups(log: Log, maxModelsInMemory?: number) {
  return new KeyedModelHandler(
    [
      { keys: ['a'], handler: countingHandler('A', (x) => x + 1, log) },
      { keys: ['b'], handler: countingHandler('B', (x) => x * 10, log) },
    ],
    maxModelsInMemory === undefined ? undefined : { maxModelsInMemory },
  );
}

describe('KeyedModelManager', () => {
  it('evicts and reloads: 20 elements alternating between two groups with maxModelsInMemory 1', () => {
    const log = newLog();
    const handler = twoGroups(log, 1);
    const manager = managerOf(handler);
    const results = [];
    for (let i = 0; i < 20; i++) {
      const key = i % 2 === 0 ? 'a' : 'b';
      results.push(...(handler.runInference([[key, i]], manager, context()) as unknown[]));
      expect(manager.size).toBe(1);
    }
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? ['a', i + 1] : ['b', i * 10])));
    expect(log.loads).toHaveLength(20);
    expect(log.releases).toEqual(log.loads.slice(0, 19)); // every eviction released, in order
    handler.releaseModel(manager);
    expect(log.releases).toEqual(log.loads);
  });

  it('keeps every model by default and with a bound that fits', () => {
    for (const bound of [undefined, 2]) {
      const log = newLog();
      const handler = twoGroups(log, bound);
      const manager = managerOf(handler);
      for (let i = 0; i < 20; i++) handler.runInference([[i % 2 === 0 ? 'a' : 'b', i]], manager, context());
      expect(log.loads).toEqual(['A', 'B']);
      expect(log.releases).toEqual([]);
      expect(manager.loadedGroupIds()).toEqual(['a', 'b']);
      handler.releaseModel(manager);
      expect(log.releases.sort()).toEqual(['A', 'B']);
    }
  });

  it('releases the least recently used model', () => {
    const log = newLog();
    const handler = new KeyedModelHandler(
      ['a', 'b', 'c'].map((k) => ({ keys: [k], handler: countingHandler(k.toUpperCase(), (x) => x, log) })),
      { maxModelsInMemory: 2 },
    );
    const manager = managerOf(handler);
    for (const key of ['a', 'b', 'a', 'c']) handler.runInference([[key, 0]], manager, context());
    expect(log.releases).toEqual(['B']); // 'a' was used after 'b'
    expect(manager.loadedGroupIds()).toEqual(['a', 'c']);
  });

  it('never releases a model while a batch runs on it: released when its last batch finishes', () => {
    const log = newLog();
    const pending = new Subject<readonly number[]>();
    const slow = modelHandler<number, number, string>({
      loadModel: () => (log.loads.push('SLOW'), 'SLOW'),
      runInference: () => pending,
      releaseModel: (m) => void log.releases.push(m),
    });
    const handler = new KeyedModelHandler(
      [
        { keys: ['slow'], handler: slow },
        { keys: ['b'], handler: countingHandler('B', (x) => x, log) },
      ],
      { maxModelsInMemory: 1 },
    );
    const manager = managerOf(handler);
    const inFlight = collectNow(handler.runInference([['slow', 1]], manager, context()));
    handler.runInference([['b', 2]], manager, context());
    expect(log.loads).toEqual(['SLOW', 'B']);
    expect(log.releases).toEqual([]); // SLOW is busy: over the bound until it finishes
    expect(manager.size).toBe(2);
    pending.next([42]);
    pending.complete();
    expect(inFlight.values).toEqual([[['slow', 42]]]);
    expect(log.releases).toEqual(['SLOW']);
    expect(manager.loadedGroupIds()).toEqual(['b']);
  });

  it('lets go of a model when an in-flight batch is unsubscribed or its inner handler throws', () => {
    const log = newLog();
    const pending = new Subject<readonly number[]>();
    let fail = false;
    const slow = modelHandler<number, number, string>({
      loadModel: () => (log.loads.push('SLOW'), 'SLOW'),
      runInference: () => {
        if (fail) throw new Error('model crashed');
        return pending;
      },
      releaseModel: (m) => void log.releases.push(m),
    });
    const handler = new KeyedModelHandler(
      [
        { keys: ['slow'], handler: slow },
        { keys: ['b'], handler: countingHandler('B', (x) => x, log) },
      ],
      { maxModelsInMemory: 1 },
    );
    const manager = managerOf(handler);
    const subscription = (handler.runInference([['slow', 1]], manager, context()) as Observable<unknown>).subscribe();
    handler.runInference([['b', 2]], manager, context());
    subscription.unsubscribe();
    expect(log.releases).toEqual(['SLOW']);
    fail = true;
    expect(() => handler.runInference([['slow', 1]], manager, context())).toThrow('model crashed');
    expect(log.releases).toEqual(['SLOW', 'B']); // B evicted when SLOW reloaded; SLOW idle again after the throw
    expect(manager.loadedGroupIds()).toEqual(['slow']);
  });

  it('loads asynchronously (Observable loads in virtual time), once for concurrent batches', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable, flush }) => {
      let loads = 0;
      const inner = modelHandler<number, number, number>({
        loadModel: () => (loads++, cold('---(m|)', { m: 100 })),
        runInference: (batch, offset) => batch.map((x) => x + offset),
      });
      const handler = new KeyedModelHandler([{ keys: [1, 2], handler: inner }]);
      const manager = managerOf(handler);
      const first = handler.runInference([[1, 1]], manager, context()) as Observable<unknown>;
      const second = handler.runInference([[2, 2]], manager, context()) as Observable<unknown>;
      expectObservable(first).toBe('---(r|)', { r: [[1, 101]] });
      expectObservable(second).toBe('---(r|)', { r: [[2, 102]] });
      flush();
      expect(loads).toBe(1);
      // Loaded now: synchronous again.
      expect(handler.runInference([[1, 5]], manager, context())).toEqual([[1, 105]]);
    });
  });

  it('loads from a Promise and runs an async inner handler after it', async () => {
    const inner = modelHandler<number, number, number>({
      loadModel: async () => 7,
      runInference: async (batch, offset) => batch.map((x) => x + offset),
    });
    const handler = new KeyedModelHandler([{ keys: ['k'], handler: inner }]);
    const manager = managerOf(handler);
    await expect(
      firstValueFrom(handler.runInference([['k', 1]], manager, context()) as Observable<unknown>),
    ).resolves.toEqual([['k', 8]]);
    await expect(
      firstValueFrom(handler.runInference([['k', 2]], manager, context()) as Observable<unknown>),
    ).resolves.toEqual([['k', 9]]);
  });

  it('reports a failed load as a ModelLoadError and tries again on the next batch', async () => {
    let attempts = 0;
    const inner = modelHandler<number, number, number>({
      loadModel: async () => {
        attempts++;
        if (attempts === 1) throw new Error('disk on fire');
        return 1;
      },
      runInference: (batch, offset) => batch.map((x) => x + offset),
    });
    const handler = new KeyedModelHandler([{ keys: ['k'], handler: inner, modelId: 'grp' }]);
    const manager = managerOf(handler);
    const failure = firstValueFrom(handler.runInference([['k', 1]], manager, context()) as Observable<unknown>);
    await expect(failure).rejects.toThrow(ModelLoadError);
    await expect(failure).rejects.toThrow(/key group 'grp' failed: disk on fire/);
    await expect(
      firstValueFrom(handler.runInference([['k', 1]], manager, context()) as Observable<unknown>),
    ).resolves.toEqual([['k', 2]]);
  });

  it('throws a synchronous load failure synchronously; a load that completes empty fails too', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable }) => {
      const broken = modelHandler<number, number, number>({
        loadModel: (id) => {
          if (id === undefined) throw new Error('no file');
          return cold('--|');
        },
        runInference: (batch) => batch,
      });
      const handler = new KeyedModelHandler([{ keys: [1], handler: broken }]);
      expect(() => handler.runInference([[1, 1]], managerOf(handler), context())).toThrow(
        expect.objectContaining({ name: 'ModelLoadError', message: expect.stringMatching(/no file/) }),
      );
      const refreshed = handler.loadModelFor([{ keys: [1], updatePath: 'empty' }]) as KeyedModelManager<number>;
      const result = handler.runInference([[1, 1]], refreshed, context()) as Observable<unknown>;
      expectObservable(result).toBe(
        '--#',
        undefined,
        new ModelLoadError(
          "Loading the model of key group '1' failed: loadModel returned an Observable that completed without a model.",
          'empty',
        ),
      );
    });
  });

  it('release() releases everything, including models that finish loading later, and cancels Observable loads', async () => {
    const log = newLog();
    let resolveLoad: (m: string) => void = () => undefined;
    const promised = modelHandler<number, number, string>({
      loadModel: () => new Promise<string>((resolve) => (resolveLoad = resolve)),
      runInference: (b) => b,
      releaseModel: async (m) => void log.releases.push(m),
    });
    const never = new Subject<string>();
    const observed = modelHandler<number, number, string>({ loadModel: () => never, runInference: (b) => b });
    const handler = new KeyedModelHandler([
      { keys: ['p'], handler: promised },
      { keys: ['o'], handler: observed },
      { keys: ['s'], handler: countingHandler('S', (x) => x, log) },
    ]);
    const manager = managerOf(handler);
    handler.runInference([['s', 1]], manager, context());
    const p = collectNow(handler.runInference([['p', 1]], manager, context()));
    const o = collectNow(handler.runInference([['o', 1]], manager, context()));
    expect(never.observed).toBe(true);
    const released = handler.releaseModel(manager);
    expect(released).toBeUndefined(); // nothing asynchronous released yet
    expect(log.releases).toEqual(['S']);
    expect(never.observed).toBe(false); // the Observable load was cancelled
    expect(o.error).toBeInstanceOf(ModelLoadError);
    expect(p.error).toBeInstanceOf(ModelLoadError);
    resolveLoad('P');
    await new Promise((r) => setImmediate(r));
    expect(log.releases).toEqual(['S', 'P']);
    expect(() => handler.runInference([['s', 1]], manager, context())).toThrow(/released/);
  });

  it('release() waits for asynchronous releaseModel and swallows release failures', async () => {
    const order: string[] = [];
    const slowRelease = modelHandler<number, number, string>({
      loadModel: () => 'M',
      runInference: (b) => b,
      releaseModel: () => new Promise<void>((resolve) => setTimeout(() => (order.push('released'), resolve()), 5)),
    });
    const failingRelease = modelHandler<number, number, string>({
      loadModel: () => 'F',
      runInference: (b) => b,
      releaseModel: () => {
        throw new Error('release failed');
      },
    });
    const rejecting = modelHandler<number, number, string>({
      loadModel: () => 'R',
      runInference: (b) => b,
      releaseModel: () => Promise.reject(new Error('async release failed')),
    });
    const handler = new KeyedModelHandler([
      { keys: [1], handler: slowRelease },
      { keys: [2], handler: failingRelease },
      { keys: [3], handler: rejecting },
    ]);
    const manager = managerOf(handler);
    for (const key of [1, 2, 3]) handler.runInference([[key, 0]], manager, context());
    const released = handler.releaseModel(manager);
    expect(released).toBeInstanceOf(Promise);
    await released;
    expect(order).toEqual(['released']);
  });

  it('outputsAsObservable concatenates an Observable that emits several arrays', async () => {
    const { of } = await import('rxjs');
    await expect(firstValueFrom(outputsAsObservable(of([1], [2, 3]))!)).resolves.toEqual([1, 2, 3]);
    expect(outputsAsObservable([1])).toBeUndefined();
  });
});

describe('KeyedModelManager.withMappings (per-key refresh)', () => {
  function beam(log: Log) {
    return new KeyedModelHandler(
      [
        { keys: [0], handler: countingHandler('always200', () => 200, log) },
        { keys: [1, 2, 3], handler: countingHandler('plusOne', (x) => x + 1, log) },
      ],
      { maxModelsInMemory: 3 },
    );
  }

  it('gives a new manager with the update paths, loaded lazily, same bound; a group may split', () => {
    const log = newLog();
    const handler = beam(log);
    const manager = handler.loadModelFor([
      { keys: [0], updatePath: 'zero/v2' },
      { keys: [1], updatePath: 'one/v2', modelId: 'one' },
      { keys: [3, 2], updatePath: 'rest/v2' },
    ]) as KeyedModelManager<number>;
    expect(manager).toBeInstanceOf(KeyedModelManager);
    expect(manager.maxModelsInMemory).toBe(3);
    expect(manager.groups.map((g) => [g.id, g.keys, g.path])).toEqual([
      ['0', [0], 'zero/v2'],
      ['one', [1], 'one/v2'],
      ['3', [3, 2], 'rest/v2'],
    ]);
    expect(log.loads).toEqual([]);
    const batch = [
      [1, 1],
      [2, 2],
      [0, 0],
      [3, 3],
    ] as const;
    collectNow(handler.runInference(batch, manager, context()));
    // The split group runs on two models of the same handler; results still in input order.
    expect(log.loads.sort()).toEqual(['one/v2', 'rest/v2', 'zero/v2']);
    expect(log.batches.map((b) => [b.modelId, b.batch])).toEqual([
      ['one/v2', [1]],
      ['rest/v2', [2, 3]],
      ['zero/v2', [0]],
    ]);
  });

  it('runs a mixed batch in input order through the refreshed models', () => {
    const log = newLog();
    const handler = beam(log);
    const manager = <KeyedModelManager<number>>handler.loadModelFor([
      { keys: [0], updatePath: 'z' },
      { keys: [1, 2, 3], updatePath: 'r' },
    ]);
    const out = collectNow(
      handler.runInference(
        [
          [3, 10],
          [0, 1],
          [1, 5],
        ],
        manager,
        context(),
      ),
    );
    expect(out.values).toEqual([
      [
        [3, 11],
        [0, 200],
        [1, 6],
      ],
    ]);
    expect(out.done).toBe(true);
  });

  it.each([
    [
      'a key missing',
      [
        { keys: [0], updatePath: 'x' },
        { keys: [1, 2], updatePath: 'y' },
      ],
      /key `3` \(number\) has no mapping/,
    ],
    [
      'a key in two mappings',
      [
        { keys: [0], updatePath: 'x' },
        { keys: [1, 2, 3, 0], updatePath: 'y' },
      ],
      /key `0` \(number\) appears in several mappings/,
    ],
    [
      'an unknown key',
      [
        { keys: [0, 9], updatePath: 'x' },
        { keys: [1, 2, 3], updatePath: 'y' },
      ],
      /key `9` \(number\) is not in the original configuration/,
    ],
    [
      'a merge of two groups',
      [{ keys: [0, 1, 2, 3], updatePath: 'x' }],
      /key `1` \(number\) belongs to group '1'.*not merge/,
    ],
    [
      'an empty key list',
      [
        { keys: [], updatePath: 'x' },
        { keys: [0, 1, 2, 3], updatePath: 'y' },
      ],
      /has no keys/,
    ],
    ['no mappings', [], /at least one KeyModelPathMapping/],
  ])('rejects %s with a RangeError naming it', (_, mappings, message) => {
    const handler = beam(newLog());
    expect(() => handler.loadModelFor(mappings as never)).toThrow(
      expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(message) }),
    );
  });

  it.each([
    ['an empty path', [{ keys: [0, 1, 2, 3], updatePath: '' }], /`updatePath`/],
    ['a missing path', [{ keys: [0, 1, 2, 3] }], /`updatePath`/],
    ['a mapping that is not an object', [null], /KeyModelPathMapping \{ keys, updatePath \}/],
    ['keys that are not an array', [{ keys: 0, updatePath: 'x' }], /KeyModelPathMapping/],
  ])('rejects %s with a TypeError', (_, mappings, message) => {
    const handler = beam(newLog());
    expect(() => handler.loadModelFor(mappings as never)).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(message) }),
    );
  });
});
