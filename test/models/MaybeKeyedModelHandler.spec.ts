import { firstValueFrom, type Observable } from 'rxjs';
import { modelHandler, isKeyedElement, MaybeKeyedModelHandler } from '../../src/index';
import { context } from './helpers';

const plusOne = modelHandler({ runInference: (batch: readonly number[]) => batch.map((x) => x + 1) });

describe('MaybeKeyedModelHandler', () => {
  it('accepts unkeyed examples and gives plain results', () => {
    const handler = new MaybeKeyedModelHandler<string, number, number, undefined>(plusOne);
    expect(handler.runInference([1, 5, 3, 10], undefined, context())).toEqual([2, 6, 4, 11]);
  });

  it('accepts keyed elements and gives [key, result]', () => {
    const handler = new MaybeKeyedModelHandler<number, number, number, undefined>(plusOne);
    const batch = [1, 5, 3, 10].map((x, i) => [i, x] as const);
    expect(handler.runInference(batch, undefined, context())).toEqual([
      [0, 2],
      [1, 6],
      [2, 4],
      [3, 11],
    ]);
  });

  it('decides per element, so one batch may mix both kinds', async () => {
    const handler = new MaybeKeyedModelHandler<string, number, number, undefined>(plusOne);
    const batch = [1, ['a', 2] as const, 3];
    expect(handler.runInference(batch, undefined, context())).toEqual([2, ['a', 3], 4]);
    const asyncHandler = new MaybeKeyedModelHandler<string, number, number, undefined>(
      modelHandler({ runInference: async (b: readonly number[]) => b.map((x) => x * 2) }),
    );
    const result = asyncHandler.runInference(batch, undefined, context()) as Observable<unknown>;
    await expect(firstValueFrom(result)).resolves.toEqual([2, ['a', 4], 6]);
  });

  it('documents its default rule: a 2-element array whose first item is a string, number, bigint or symbol', () => {
    const sym = Symbol('k');
    expect(
      [
        ['a', 1],
        [1, 1],
        [1n, 1],
        [sym, 1],
      ].map(isKeyedElement),
    ).toEqual([true, true, true, true]);
    const unkeyed = [
      1,
      'ab',
      null,
      undefined,
      { 0: 'a', 1: 2, length: 2 },
      new Float32Array(2),
      ['a'],
      ['a', 1, 2],
      [{}, 1],
      [null, 1],
      [true, 1],
    ];
    expect(unkeyed.map(isKeyedElement)).toEqual(unkeyed.map(() => false));
    // The trade-off: an unkeyed feature pair of numbers looks keyed under the default rule.
    expect(isKeyedElement([0.5, 1.5])).toBe(true);
  });

  it('takes a custom isKeyed, e.g. for examples that are number pairs', () => {
    const sum = modelHandler({
      runInference: (batch: readonly (readonly number[])[]) => batch.map(([a, b]) => a! + b!),
    });
    const handler = new MaybeKeyedModelHandler<string, readonly number[], number, undefined>(sum, {
      isKeyed: (x) => Array.isArray(x) && typeof x[0] === 'string',
    });
    expect(
      handler.runInference(
        [
          [0.5, 1.5],
          ['k', [1, 2]],
        ],
        undefined,
        context(),
      ),
    ).toEqual([2, ['k', 3]]);
  });

  it('delegates every hook to the inner handler, with batch functions on the example part', () => {
    const released: unknown[] = [];
    const inner = modelHandler<string, number, string>({
      loadModel: (id) => `model:${id}`,
      runInference: (b) => b.map((s) => s.length),
      releaseModel: (m) => void released.push(m),
      getNumBytes: (b) => b.length * 10,
      getMetricsNamespace: 'Inner',
      batchConfig: { maxBatchSize: 3, batchKeyFn: (s) => s.length, elementSizeFn: (s) => s.length },
      validateInferenceArgs: () => {
        throw new TypeError('no args');
      },
      defaultModelId: 'def',
      bisectOnFailure: false,
    });
    const handler = new MaybeKeyedModelHandler<string, string, number, string>(inner);
    expect(handler.loadModel('x')).toBe('model:x');
    handler.releaseModel('m');
    expect(released).toEqual(['m']);
    expect(handler.getNumBytes(['ab', ['k', 'cd']])).toBe(1 + 20);
    expect(handler.getMetricsNamespace()).toBe('Inner');
    const config = handler.batchConfig();
    expect(config.maxBatchSize).toBe(3);
    expect(config.batchKeyFn?.(['k', 'abc'])).toBe(3);
    expect(config.batchKeyFn?.('abcd')).toBe(4);
    expect(config.elementSizeFn?.(['k', 'ab'])).toBe(2);
    expect(() => handler.validateInferenceArgs({})).toThrow('no args');
    expect(handler.defaultModelId()).toBe('def');
    expect(handler.bisectOnFailure()).toBe(false);
    expect(handler.loadModelFor({ modelId: '', modelName: '' })).toBe('model:def');
    expect(handler.modelIdFor({ modelId: 'v2', modelName: 'v2' })).toBe('v2');
    expect(handler.metricsPrefixFor(['a'])).toBeUndefined();
    expect(new MaybeKeyedModelHandler(plusOne).batchConfig()).toEqual({});
  });

  describe('construction', () => {
    it('refuses an inner handler with pre/post-processing of its own', () => {
      expect(() => new MaybeKeyedModelHandler(plusOne.withPreprocessFn((x: number) => x))).toThrow(
        expect.objectContaining({
          name: 'TypeError',
          message: expect.stringContaining('on the MaybeKeyedModelHandler'),
        }),
      );
      expect(() => new MaybeKeyedModelHandler(plusOne.withNoBatching() as never)).toThrow(TypeError);
    });
    it('refuses what is not a handler, and an isKeyed that is not a function', () => {
      expect(() => new MaybeKeyedModelHandler(undefined as never)).toThrow(/`handler` to be a ModelHandler/);
      expect(() => new MaybeKeyedModelHandler(plusOne, { isKeyed: true as never })).toThrow(
        expect.objectContaining({ name: 'TypeError', message: expect.stringContaining('`isKeyed`') }),
      );
      expect(() => new MaybeKeyedModelHandler(plusOne, 'x' as never)).toThrow(/`config`/);
    });
  });
});
