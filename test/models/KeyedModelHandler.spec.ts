import { firstValueFrom, isObservable, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidExampleError, modelHandler, KeyedModelHandler } from '../../src/index';
import { context, countingHandler, managerOf, newLog } from './helpers';

const plusOne = (batch: readonly number[]) => batch.map((x) => x + 1);

describe('KeyedModelHandler with one handler', () => {
  it('runs [key, example] pairs and gives [key, result] in input order', () => {
    const keyed = new KeyedModelHandler<number, number, number, undefined>(modelHandler({ runInference: plusOne }));
    const batch = [1, 5, 3, 10].map((x, i) => [i, x] as const);
    expect(keyed.runInference(batch, undefined, context())).toEqual([
      [0, 2],
      [1, 6],
      [2, 4],
      [3, 11],
    ]);
  });

  it('maps a Promise result with rxjs', async () => {
    const keyed = new KeyedModelHandler<string, number, number, undefined>(
      modelHandler({ runInference: async (batch: readonly number[]) => plusOne(batch) }),
    );
    const result = keyed.runInference(
      [
        ['a', 1],
        ['b', 2],
      ],
      undefined,
      context(),
    );
    expect(isObservable(result)).toBe(true);
    await expect(firstValueFrom(result as Observable<unknown>)).resolves.toEqual([
      ['a', 2],
      ['b', 3],
    ]);
  });

  it('maps an Observable result in virtual time', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable }) => {
      const keyed = new KeyedModelHandler<string, number, number, undefined>(
        modelHandler({ runInference: (batch: readonly number[]) => cold('---(a|)', { a: plusOne(batch) }) }),
      );
      const result = keyed.runInference([['k', 41]], undefined, context()) as Observable<unknown>;
      expectObservable(result).toBe('---(a|)', { a: [['k', 42]] });
    });
  });

  it('delegates every hook to the inner handler, with batch functions on the example part', () => {
    const log = newLog();
    const inner = modelHandler<string, number, { id: string }>({
      loadModel: (id) => (log.loads.push(id ?? ''), { id: id ?? 'default' }),
      runInference: (batch) => batch.map((s) => s.length),
      releaseModel: (m) => void log.releases.push(m.id),
      getNumBytes: (batch) => batch.length * 10,
      getMetricsNamespace: 'Inner',
      batchConfig: { maxBatchSize: 4, batchKeyFn: (s) => s.length, elementSizeFn: (s) => s.length * 2 },
      validateInferenceArgs: (args) => {
        if (args?.['bad']) throw new TypeError('bad arg');
      },
      defaultModelId: 'inner/default',
      bisectOnFailure: false,
    });
    const keyed = new KeyedModelHandler<number, string, number, { id: string }>(inner);
    expect(keyed.loadModel('p')).toEqual({ id: 'p' });
    keyed.releaseModel({ id: 'p' });
    expect(log.releases).toEqual(['p']);
    expect(keyed.getNumBytes([[1, 'ab']])).toBe(8 + 10);
    expect(keyed.getMetricsNamespace()).toBe('Inner');
    const config = keyed.batchConfig();
    expect(config.maxBatchSize).toBe(4);
    expect(config.batchKeyFn?.([7, 'abc'])).toBe(3);
    expect(config.elementSizeFn?.([7, 'abc'])).toBe(6);
    expect(() => keyed.validateInferenceArgs({ bad: true })).toThrow('bad arg');
    expect(keyed.defaultModelId()).toBe('inner/default');
    expect(keyed.bisectOnFailure()).toBe(false);
    expect(keyed.loadModelFor({ modelId: '', modelName: '' })).toEqual({ id: 'inner/default' });
    expect(keyed.modelIdFor({ modelId: '', modelName: '' })).toBe('inner/default');
    expect(keyed.metricsPrefixFor([[1, 'a']])).toBeUndefined();
    expect(() => keyed.loadModelFor([{ keys: [1], updatePath: 'x' }])).toThrow(TypeError);
  });

  it('keeps a batch config without element functions as it is', () => {
    const keyed = new KeyedModelHandler(modelHandler({ runInference: plusOne, batchConfig: { minBatchSize: 3 } }));
    expect(keyed.batchConfig()).toEqual({ minBatchSize: 3 });
  });

  it('fails an element that is not a [key, example] pair', () => {
    const keyed = new KeyedModelHandler<number, number, number, undefined>(modelHandler({ runInference: plusOne }));
    expect(() => keyed.runInference([[1, 2], 3 as never], undefined, context())).toThrow(
      expect.objectContaining({
        name: 'InvalidExampleError',
        position: 1,
        message: expect.stringMatching(/\[key, example\]/),
      }),
    );
  });

  describe('construction', () => {
    it('refuses an inner handler with pre/post-processing or no batching', () => {
      const inner = modelHandler({ runInference: plusOne });
      expect(() => new KeyedModelHandler(inner.withPreprocessFn((x: number) => x))).toThrow(/on the keyed handler/);
      expect(() => new KeyedModelHandler(inner.withPostprocessFn((x: number) => x))).toThrow(TypeError);
      expect(() => new KeyedModelHandler(inner.withNoBatching() as never)).toThrow(TypeError);
    });
    it('refuses what is not a handler, and a config without key groups', () => {
      expect(() => new KeyedModelHandler({} as never)).toThrow(/`handler` to be a ModelHandler/);
      expect(() => new KeyedModelHandler(null as never)).toThrow(TypeError);
      expect(
        () => new (KeyedModelHandler as any)(modelHandler({ runInference: plusOne }), { maxModelsInMemory: 1 }),
      ).toThrow(/only with a list of key groups/);
    });
  });
});

describe('KeyedModelHandler with key groups', () => {
  function beamGroups(log = newLog(), config?: { maxModelsInMemory?: number }) {
    const handler = new KeyedModelHandler(
      [
        { keys: [0], handler: countingHandler('always200', () => 200, log) },
        { keys: [1, 2, 3], handler: countingHandler('plusOne', (x) => x + 1, log) },
      ],
      config,
    );
    return { handler, log };
  }

  it('runs each key on its group model, results in input order (Beam: key 0 → 200, keys 1–3 → x + 1)', () => {
    const { handler, log } = beamGroups();
    const manager = managerOf(handler);
    expect(log.loads).toEqual([]); // lazy: nothing loaded before the first batch
    const batch = [
      [1, 5],
      [0, 7],
      [2, 3],
      [3, 10],
      [0, 1],
    ] as const;
    const result = handler.runInference(batch, manager, context());
    let values: unknown;
    (result as Observable<unknown>).subscribe((v) => (values = v));
    expect(values).toEqual([
      [1, 6],
      [0, 200],
      [2, 4],
      [3, 11],
      [0, 200],
    ]);
    expect(log.loads.sort()).toEqual(['always200', 'plusOne']);
    expect(log.batches.map((b) => b.batch)).toEqual([
      [5, 3, 10],
      [7, 1],
    ]);
  });

  it('is synchronous for a one-group batch on synchronous models', () => {
    const { handler } = beamGroups();
    const manager = managerOf(handler);
    expect(
      handler.runInference(
        [
          [2, 1],
          [1, 2],
        ],
        manager,
        context(),
      ),
    ).toEqual([
      [2, 2],
      [1, 3],
    ]);
  });

  it('keys batches by group, combined with the group handler batch key', () => {
    const shaped = modelHandler({
      runInference: (batch: readonly string[]) => batch.map((s) => s.length),
      batchConfig: { batchKeyFn: (s: string) => s.length, maxBatchSize: 99 },
    });
    const handler = new KeyedModelHandler([
      { keys: ['a', 'b'], handler: shaped },
      { keys: ['c'], handler: modelHandler({ runInference: (b: readonly string[]) => b.map(() => 0) }) },
    ]);
    const config = handler.batchConfig();
    expect(Object.keys(config)).toEqual(['batchKeyFn']); // other batching settings of group handlers are ignored
    const key = config.batchKeyFn!;
    expect(key(['a', 'xy'])).toBe(key(['b', 'zz']));
    expect(key(['a', 'xy'])).not.toBe(key(['a', 'xyz']));
    expect(key(['c', 'xy'])).toBe(1);
    expect(key(['c', 'xy'])).not.toBe(key(['a', 'xy']));
    expect(key(['zz', 'xy'])).not.toBe(key(['c', 'xy']));
    expect(key(['zz', 'xy'])).not.toBe(key(['yy', 'xy']));
    expect(key('nope' as never)).toBe('invalid');
  });

  it('fails an element whose key is in no group, naming the key', () => {
    const { handler } = beamGroups();
    const manager = managerOf(handler);
    let error: unknown;
    try {
      handler.runInference(
        [
          [1, 1],
          [9, 1],
        ],
        manager,
        context(),
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidExampleError);
    expect(error).toMatchObject({ position: 1, field: 'key', message: expect.stringContaining('`9` (number)') });
  });

  it('names the group in metrics prefixes: its modelId, else its first key', () => {
    const inner = modelHandler({ runInference: plusOne });
    const handler = new KeyedModelHandler([
      { keys: ['x', 'y'], handler: inner },
      { keys: ['z'], handler: inner, modelId: 'fraud' },
    ]);
    expect(handler.metricsPrefixFor([['y', 1]])).toBe('x-');
    expect(handler.metricsPrefixFor([['z', 1]])).toBe('fraud-');
    expect(handler.metricsPrefixFor([['nope', 1]])).toBeUndefined();
    expect(handler.metricsPrefixFor([])).toBeUndefined();
  });

  it('gives each group its model path in context.modelId', () => {
    const { handler, log } = beamGroups();
    const manager = handler.loadModelFor([
      { keys: [0], updatePath: 'models/zero-v2' },
      { keys: [1, 2, 3], updatePath: 'models/rest-v2' },
    ]);
    handler.runInference([[0, 1]], manager as never, context('ignored'));
    handler.runInference([[3, 1]], manager as never, context('ignored'));
    expect(log.batches.map((b) => [b.model, b.modelId])).toEqual([
      ['models/zero-v2', 'models/zero-v2'],
      ['models/rest-v2', 'models/rest-v2'],
    ]);
  });

  it('fails a batch whose group model returns the wrong number of outputs', () => {
    const handler = new KeyedModelHandler([
      { keys: [1], handler: modelHandler({ runInference: (b: readonly number[]) => b.slice(1) }) },
    ]);
    expect(() =>
      handler.runInference(
        [
          [1, 1],
          [1, 2],
        ],
        managerOf(handler),
        context(),
      ),
    ).toThrow(expect.objectContaining({ name: 'InferenceError', message: expect.stringMatching(/1 outputs for 2/) }));
  });

  it('combines the hooks of the group handlers', () => {
    const strict = modelHandler({
      runInference: plusOne,
      getNumBytes: (b) => b.length * 100,
      bisectOnFailure: false,
      validateInferenceArgs: () => {
        throw new TypeError('strict');
      },
    });
    const lax = modelHandler({ runInference: plusOne, validateInferenceArgs: () => undefined });
    const handler = new KeyedModelHandler([
      { keys: [1], handler: strict },
      { keys: [2], handler: lax },
    ]);
    expect(handler.getMetricsNamespace()).toBe('BeamML_KeyedModels');
    expect(handler.defaultModelId()).toBe('');
    expect(handler.bisectOnFailure()).toBe(false);
    expect(() => handler.validateInferenceArgs({ a: 1 })).toThrow('strict');
    expect(
      handler.getNumBytes([
        [1, 1],
        [2, 1],
        [9, 1],
        [1, 2],
      ]),
    ).toBe(4 * 8 + 200 + 8 + 8); // keys + strict's own count for its two examples + estimates for the others
    const both = new KeyedModelHandler([{ keys: [2], handler: lax }]);
    expect(both.bisectOnFailure()).toBe(true);
  });

  it('refuses ModelMetadata refreshes, except the default model', () => {
    const { handler } = beamGroups();
    expect(() => handler.loadModel('models/x')).toThrow(/KeyModelPathMapping\[\]/);
    expect(() => handler.loadModelFor({ modelId: 'models/x', modelName: 'x' })).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringContaining('KeyModelPathMapping[]') }),
    );
    expect(handler.loadModelFor({ modelId: '', modelName: '' })).toHaveProperty('groups');
    expect(
      handler.modelIdFor([
        { keys: [0], updatePath: 'a' },
        { keys: [1, 2, 3], updatePath: 'b', modelId: 'rest' },
      ]),
    ).toBe('0=a,rest=b');
  });

  describe('construction', () => {
    const inner = modelHandler({ runInference: plusOne });
    it('rejects a key in two groups, naming the key', () => {
      expect(
        () =>
          new KeyedModelHandler([
            { keys: [1, 2], handler: inner },
            { keys: [3, 2], handler: inner },
          ]),
      ).toThrow(
        expect.objectContaining({
          name: 'RangeError',
          message: expect.stringMatching(/Key `2` \(number\) is in two groups/),
        }),
      );
    });
    it('rejects a key listed twice in one group', () => {
      expect(() => new KeyedModelHandler([{ keys: ['a', 'a'], handler: inner }])).toThrow(
        expect.objectContaining({
          name: 'RangeError',
          message: 'Key `a` (string) appears twice in `mappings[0].keys`.',
        }),
      );
    });
    it('rejects an empty key list, an empty group list and malformed groups', () => {
      expect(() => new KeyedModelHandler([{ keys: [], handler: inner }])).toThrow(
        expect.objectContaining({ name: 'RangeError', message: expect.stringContaining('`mappings[0].keys`') }),
      );
      expect(() => new KeyedModelHandler([])).toThrow(RangeError);
      expect(() => new KeyedModelHandler([{ keys: 1 as never, handler: inner }])).toThrow(/`mappings\[0\]\.keys`/);
      expect(() => new KeyedModelHandler([{ keys: [1], handler: {} as never }])).toThrow(/`mappings\[0\]\.handler`/);
      expect(() => new KeyedModelHandler([null as never])).toThrow(TypeError);
      expect(() => new KeyedModelHandler([{ keys: [1], handler: inner, modelId: 3 as never }])).toThrow(/modelId/);
      expect(() => new KeyedModelHandler([{ keys: [1], handler: inner.withPostprocessFn(String) as never }])).toThrow(
        /pre\/post-processing/,
      );
    });
    it.each([
      [0, 'RangeError'],
      [1.5, 'RangeError'],
      ['2', 'TypeError'],
    ])('rejects maxModelsInMemory = %p with a %s', (value, name) => {
      expect(
        () => new KeyedModelHandler([{ keys: [1], handler: inner }], { maxModelsInMemory: value as never }),
      ).toThrow(expect.objectContaining({ name, message: expect.stringContaining('`maxModelsInMemory`') }));
    });
    it('rejects a config that is not an object', () => {
      expect(() => new KeyedModelHandler([{ keys: [1], handler: inner }], 5 as never)).toThrow(/`config`/);
    });
  });
});
