import { modelHandler } from '../../src/index';
import { context } from './helpers';

describe('modelHandler', () => {
  it('builds a handler from functions: x + 1 on [1, 5, 3, 10]', () => {
    const handler = modelHandler({
      loadModel: () => ({ offset: 1 }),
      runInference: (batch: readonly number[], model) => batch.map((x) => x + model.offset),
    });
    const model = handler.loadModel() as { offset: number };
    expect(handler.runInference([1, 5, 3, 10], model, context())).toEqual([2, 6, 4, 11]);
  });

  it('passes the model id to loadModel and the context to runInference', () => {
    const seen: unknown[] = [];
    const handler = modelHandler({
      loadModel: (id?: string) => `model:${id}`,
      runInference: (batch: readonly number[], model, ctx) => {
        seen.push(model, ctx.modelId);
        return batch;
      },
    });
    expect(handler.loadModel('path/a')).toBe('model:path/a');
    handler.runInference([1], 'm', context('path/a'));
    expect(seen).toEqual(['m', 'path/a']);
  });

  it('without loadModel, the model is undefined', () => {
    const models: unknown[] = [];
    const handler = modelHandler({
      runInference: (batch: readonly string[], model) => {
        models.push(model);
        return batch.map((s) => s.toUpperCase());
      },
    });
    const model = handler.loadModel();
    expect(model).toBeUndefined();
    expect(handler.runInference(['a', 'b'], model as undefined, context())).toEqual(['A', 'B']);
    expect(models).toEqual([undefined]);
  });

  it('keeps the ModelHandler defaults for what is not given', () => {
    const handler = modelHandler({ runInference: (batch: readonly number[]) => batch });
    expect(handler.getMetricsNamespace()).toBe('RunInference');
    expect(handler.batchConfig()).toEqual({});
    expect(handler.defaultModelId()).toBe('');
    expect(handler.bisectOnFailure()).toBe(true);
    expect(handler.getNumBytes([1, 2])).toBe(16);
    expect(() => handler.validateInferenceArgs(undefined)).not.toThrow();
    expect(() => handler.validateInferenceArgs({ temperature: 1 })).toThrow(/temperature/);
    expect(handler.releaseModel(undefined)).toBeUndefined();
  });

  it('takes settings as values or as functions', () => {
    const released: unknown[] = [];
    const byValue = modelHandler({
      runInference: (batch: readonly number[]) => batch,
      releaseModel: (m: unknown) => void released.push(m),
      getNumBytes: (batch) => batch.length * 100,
      getMetricsNamespace: 'Mine',
      batchConfig: { maxBatchSize: 7 },
      validateInferenceArgs: () => undefined,
      defaultModelId: 'default/path',
      bisectOnFailure: false,
    });
    expect(byValue.getNumBytes([1, 2, 3])).toBe(300);
    expect(byValue.getMetricsNamespace()).toBe('Mine');
    expect(byValue.batchConfig()).toEqual({ maxBatchSize: 7 });
    expect(() => byValue.validateInferenceArgs({ any: 1 })).not.toThrow();
    expect(byValue.defaultModelId()).toBe('default/path');
    expect(byValue.bisectOnFailure()).toBe(false);
    byValue.releaseModel('m1');
    expect(released).toEqual(['m1']);

    const byFunction = modelHandler({
      runInference: (batch: readonly number[]) => batch,
      getMetricsNamespace: () => 'Fn',
      batchConfig: () => ({ minBatchSize: 2 }),
      defaultModelId: () => 'fn/path',
      bisectOnFailure: () => false,
    });
    expect(byFunction.getMetricsNamespace()).toBe('Fn');
    expect(byFunction.batchConfig()).toEqual({ minBatchSize: 2 });
    expect(byFunction.defaultModelId()).toBe('fn/path');
    expect(byFunction.bisectOnFailure()).toBe(false);
  });

  it("maps a '' side-input model to defaultModelId", () => {
    const loaded: (string | undefined)[] = [];
    const handler = modelHandler({
      loadModel: (id?: string) => void loaded.push(id),
      runInference: (batch: readonly number[]) => batch,
      defaultModelId: 'default/path',
    });
    handler.loadModelFor({ modelId: '', modelName: '' });
    handler.loadModelFor({ modelId: 'v2', modelName: 'v2' });
    expect(loaded).toEqual(['default/path', 'v2']);
    expect(handler.modelIdFor({ modelId: '', modelName: '' })).toBe('default/path');
  });

  it('composes like any handler', () => {
    const handler = modelHandler({ runInference: (batch: readonly number[]) => batch.map((x) => x * 2) })
      .withPreprocessFn((s: string) => Number(s))
      .withPostprocessFn((x: number) => `${x}`);
    expect(handler.preprocessFns()).toHaveLength(1);
    expect(handler.postprocessFns()).toHaveLength(1);
    expect(handler.runInference([2] as never, undefined, context())).toEqual([4]);
  });

  describe('config validation', () => {
    it('requires runInference to be a function', () => {
      expect(() => modelHandler({} as never)).toThrow(
        expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/`runInference`.*`undefined`/) }),
      );
      expect(() => modelHandler({ runInference: 'x' } as never)).toThrow(/`runInference` to be a function/);
    });
    it('rejects a config that is not an object', () => {
      expect(() => modelHandler(null as never)).toThrow(TypeError);
      expect(() => modelHandler(undefined as never)).toThrow(/config to be an object/);
    });
    it.each([
      ['loadModel', 5],
      ['releaseModel', 'no'],
      ['getNumBytes', {}],
      ['validateInferenceArgs', true],
      ['getMetricsNamespace', 3],
      ['defaultModelId', 1],
      ['bisectOnFailure', 'yes'],
      ['batchConfig', 5],
      ['batchConfig', null],
    ])('rejects `%s` = %p with a TypeError naming it', (field, value) => {
      expect(() => modelHandler({ runInference: (b: readonly number[]) => b, [field]: value })).toThrow(
        expect.objectContaining({ name: 'TypeError', message: expect.stringContaining(`\`${field}\``) }),
      );
    });
  });
});
