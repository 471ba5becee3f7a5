import { availableParallelism } from 'node:os';
import type { Tensor } from 'onnxruntime-node';
import { onnxCpuMaxBatchSize } from '../../../src/handlers/onnx/onnxCpuMaxBatchSize';
import { OnnxModelHandler } from '../../../src/index';
import type { OnnxModel, OnnxTensor } from '../../../src/index';
import {
  convNet,
  dtypes,
  embedding,
  fixedBatch,
  identity,
  mlp,
  stringIdentity,
  twoInputsTwoOutputs,
  type ElementInputs,
  type OnnxFixture,
} from '../../../scripts/fixtures/onnx';
import { context, expectTensorClose, tempModels } from './onnxTestUtils';

/** Loads `fixture` from bytes, runs `elements` as one batch, checks every output of every element, releases. */
async function runAndCompare(fixture: OnnxFixture, elements: readonly ElementInputs[], asRecord = true) {
  const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
  const model = await handler.loadModel();
  try {
    const batch = asRecord ? elements : elements.map((e) => e[fixture.inputs[0].name]);
    const results = await handler.runInference(batch, model, context('m1'));
    expect(results).toHaveLength(elements.length);
    results.forEach((result, p) => {
      expect(result.example).toBe(batch[p]);
      expect(result.modelId).toBe('m1');
      const expected = fixture.forward(elements[p]);
      if (fixture.outputNames.length === 1) {
        expectTensorClose(result.inference as Tensor, expected[fixture.outputNames[0]]);
      } else {
        const record = result.inference as Record<string, Tensor>;
        expect(Object.keys(record)).toEqual(fixture.outputNames);
        for (const name of fixture.outputNames) expectTensorClose(record[name], expected[name]);
      }
    });
    return { results, model };
  } finally {
    await handler.releaseModel(model);
  }
}

describe('OnnxModelHandler: results equal the JS reference', () => {
  const fixture = mlp([8, 16, 4]);

  it.each([1, 7, 64])('MLP, batch of %i, records input name → tensor', async (size) => {
    await runAndCompare(fixture, fixture.sample(size, size));
  });

  it('MLP, batch of 7, bare TensorLike examples', async () => {
    await runAndCompare(fixture, fixture.sample(7, 3), false);
  });

  it('MLP, bare typed arrays for a 1-D single input', async () => {
    const elements = fixture.sample(5, 4);
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    const arrays = elements.map((e) => e.input.data as Float32Array);
    const results = await handler.runInference(arrays, model, context());
    results.forEach((r, p) => expectTensorClose(r.inference as Tensor, fixture.forward(elements[p]).output));
    await handler.releaseModel(model);
  });

  it('the default 512→1024→1024→10 MLP matches too', async () => {
    const big = mlp();
    await runAndCompare(big, big.sample(3, 9));
  });

  it('accepts ort.Tensor examples', async () => {
    const ort = await import('onnxruntime-node');
    const elements = fixture.sample(4, 6);
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    const tensors = elements.map((e) => new ort.Tensor('float32', e.input.data as Float32Array, [8]));
    const results = await handler.runInference(tensors, model, context());
    results.forEach((r, p) => expectTensorClose(r.inference as Tensor, fixture.forward(elements[p]).output));
    await handler.releaseModel(model);
  });

  it('results are views of one output buffer per run (no per-element copies)', async () => {
    const { results } = await runAndCompare(fixture, fixture.sample(3, 1));
    const buffers = new Set(results.map((r) => ((r.inference as Tensor).data as Float32Array).buffer));
    expect(buffers.size).toBe(1);
    expect(((results[2].inference as Tensor).data as Float32Array).byteOffset).toBe(2 * 4 * 4);
  });

  it('results are plain OnnxTensor views: { type, data, dims, size }, dims frozen and shared by the batch', async () => {
    const ort = await import('onnxruntime-node');
    const { results } = await runAndCompare(fixture, fixture.sample(4, 2));
    const first = results[0].inference as unknown as OnnxTensor;
    expect(first).not.toBeInstanceOf(ort.Tensor);
    expect(Object.keys(first).sort()).toEqual(['data', 'dims', 'size', 'type']);
    expect(first).toMatchObject({ type: 'float32', dims: [4], size: 4 });
    expect(Object.isFrozen(first.dims)).toBe(true);
    expect((results[3].inference as unknown as OnnxTensor).dims).toBe(first.dims);
  });

  it('a batch mixing bare arrays, TensorLikes and ort.Tensors of one shape is checked and stacked alike', async () => {
    const ort = await import('onnxruntime-node');
    const elements = fixture.sample(6, 8);
    const batch = elements.map((e, p) => {
      const data = e.input.data as Float32Array;
      return p % 3 === 0 ? data : p % 3 === 1 ? { data, dims: [8] } : new ort.Tensor('float32', data, [8]);
    });
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    const results = await handler.runInference(batch, model, context());
    results.forEach((r, p) => expectTensorClose(r.inference as Tensor, fixture.forward(elements[p]).output));
    await handler.releaseModel(model);
  });

  it('the Identity model of bench P6: each element gets back exactly its own values', async () => {
    const id = identity(512);
    const elements = id.sample(33, 5);
    const handler = new OnnxModelHandler({ modelUri: id.bytes });
    const model = await handler.loadModel();
    const results = await handler.runInference(
      elements.map((e) => e.x.data as Float32Array),
      model,
      context(),
    );
    results.forEach((r, p) => {
      const out = r.inference as unknown as OnnxTensor;
      expect(out.dims).toEqual([512]);
      expect(Array.from(out.data as Float32Array)).toEqual(Array.from(elements[p].x.data as Float32Array));
    });
    await handler.releaseModel(model);
  });

  it('loads from a file path and names the path as the default model id', async () => {
    const files = tempModels({ 'mlp.onnx': fixture.bytes });
    try {
      const handler = new OnnxModelHandler({ modelUri: files.path('mlp.onnx') });
      expect(handler.defaultModelId()).toBe(files.path('mlp.onnx'));
      const model = await handler.loadModel();
      expect(model.source).toBe(files.path('mlp.onnx'));
      const [element] = fixture.sample(1);
      const [result] = await handler.runInference([element], model, context());
      expectTensorClose(result.inference as Tensor, fixture.forward(element).output);
      await handler.releaseModel(model);
    } finally {
      files.cleanup();
    }
  });

  it('loadModel(modelId) loads that path instead of modelUri', async () => {
    const other = mlp([8, 16, 4], { seed: 99 });
    const files = tempModels({ 'other.onnx': other.bytes });
    try {
      const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
      expect(handler.defaultModelId()).toBe('');
      const model = await handler.loadModel(files.path('other.onnx'));
      const [element] = other.sample(1);
      const [result] = await handler.runInference([element], model, context());
      expectTensorClose(result.inference as Tensor, other.forward(element).output);
      await handler.releaseModel(model);
    } finally {
      files.cleanup();
    }
  });
});

describe('OnnxModelHandler: several inputs and outputs', () => {
  it('splits both outputs (float32 logits, int64 scalar label) per element', async () => {
    const fixture = twoInputsTwoOutputs();
    const { results } = await runAndCompare(fixture, fixture.sample(9, 2));
    const labels = results.map((r) => (r.inference as Record<string, Tensor>).label);
    expect(labels.every((t) => t.type === 'int64' && t.dims.length === 0)).toBe(true);
    // The labels are not all the same, so a split that repeats the first element's output would fail above.
    expect(new Set(labels.map((t) => t.data[0])).size).toBeGreaterThan(1);
  });

  it('outputNames selects and orders the outputs', async () => {
    const fixture = twoInputsTwoOutputs();
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes, outputNames: ['label'] });
    const model = await handler.loadModel();
    const elements = fixture.sample(3, 5);
    const results = await handler.runInference(elements, model, context());
    results.forEach((r, p) => expectTensorClose(r.inference as Tensor, fixture.forward(elements[p]).label));
    await handler.releaseModel(model);
  });

  it('float64, int32, int64 (BigInt64Array), uint8 and bool inputs and outputs', async () => {
    const fixture = dtypes();
    await runAndCompare(fixture, fixture.sample(6, 8));
  });

  it('int64 ids into an embedding (Gather)', async () => {
    const fixture = embedding();
    await runAndCompare(fixture, fixture.sample(7, 4));
  });

  it('string tensors (outputs sliced, not viewed)', async () => {
    const handler = new OnnxModelHandler({ modelUri: stringIdentity() });
    const model = await handler.loadModel();
    const batch = [
      { data: ['a', 'b'], dims: [2], type: 'string' as const },
      { data: ['ç', ''], dims: [2], type: 'string' as const },
      { data: ['x', 'y z'], dims: [2], type: 'string' as const },
    ];
    const results = await handler.runInference(batch, model, context());
    expect(
      results.map((r) => [(r.inference as Tensor).type, (r.inference as Tensor).dims, (r.inference as Tensor).data]),
    ).toEqual(batch.map((e) => ['string', [2], e.data]));
    await handler.releaseModel(model);
  });
});

describe('OnnxModelHandler: shapes', () => {
  it('conv net: images of two sizes, each batch of one size, correct results', async () => {
    const fixture = convNet();
    await runAndCompare(fixture, fixture.sample(5, 1));
    await runAndCompare(fixture, fixture.sample(4, 2, { image: [1, 6, 10] }));
  });

  it('batchKeyFn keys by dtype and dims of every input', () => {
    const key = new OnnxModelHandler({ modelUri: new Uint8Array(1) }).batchConfig().batchKeyFn!;
    const conv = convNet();
    const [small] = conv.sample(1);
    const [wide] = conv.sample(1, 1, { image: [1, 6, 10] });
    expect(key(small)).toBe(key(conv.sample(1, 5)[0]));
    expect(key(small)).not.toBe(key(wide));
    expect(key({ data: new Float32Array(4), dims: [4] })).not.toBe(key({ data: new Float64Array(4), dims: [4] }));
    expect(key(new Float32Array(3))).not.toBe(key(new Float32Array(4)));
    const [two] = twoInputsTwoOutputs().sample(1);
    expect(key(two)).toBe('a=float32[4];b=float32[2]');
    expect(key(42 as never)).toBe('?number');
  });

  it('batch keys stay exact when consecutive examples change shape, type or form (the last key is reused)', () => {
    const key = new OnnxModelHandler({ modelUri: new Uint8Array(1) }).batchConfig().batchKeyFn!;
    const dims = [2, 2];
    const sequence: [unknown, string][] = [
      [new Float32Array(4), 'float32[4]'],
      [new Float32Array(4), 'float32[4]'],
      [new Float64Array(4), 'float64[4]'],
      [{ data: new Float32Array(4), dims }, 'float32[2,2]'],
      [{ data: new Float32Array(4), dims: [4] }, 'float32[4]'],
      [new Float32Array(4), 'float32[4]'],
      [{ data: new Uint8Array(4), dims: [4], type: 'bool' }, 'bool[4]'],
      [{ data: new Uint8Array(4), dims: [4] }, 'uint8[4]'],
      [{ data: new Float32Array(4), dims }, 'float32[2,2]'],
    ];
    for (const [example, expected] of sequence) expect(key(example as never)).toBe(expected);
    dims[0] = 4;
    dims.length = 1;
    expect(key({ data: new Float32Array(4), dims } as never)).toBe('float32[4]');
  });

  it('a user batchKeyFn is combined with the shape key', () => {
    const handler = new OnnxModelHandler({
      modelUri: new Uint8Array(1),
      batch: { maxBatchSize: 32, batchKeyFn: () => 'user' },
    });
    const config = handler.batchConfig();
    expect(config.maxBatchSize).toBe(32);
    expect(config.batchKeyFn!(new Float32Array(2))).toBe('float32[2]|user');
  });

  it('the default maxBatchSize follows the device and, on the CPU, the session threads (SPEC §8); an explicit one wins', () => {
    const bound = (config: Partial<ConstructorParameters<typeof OnnxModelHandler>[0]>) =>
      new OnnxModelHandler({ modelUri: new Uint8Array(1), ...config }).batchConfig().maxBatchSize;
    // onnxruntime's default (no intraOpNumThreads, or 0) is a thread per core.
    const perCore = onnxCpuMaxBatchSize(availableParallelism());
    expect([bound({}), bound({ device: 'cpu' }), bound({ sessionOptions: { intraOpNumThreads: 0 } })]).toEqual([
      perCore,
      perCore,
      perCore,
    ]);
    expect(bound({ sessionOptions: { intraOpNumThreads: 2 } })).toBe(512);
    expect(bound({ sessionOptions: { intraOpNumThreads: 8 } })).toBe(1024);
    expect(bound({ sessionOptions: { intraOpNumThreads: 16 } })).toBe(2048);
    expect(bound({ sessionOptions: { intraOpNumThreads: 16 }, batch: { maxBatchSize: 300 } })).toBe(300);
    expect(bound({ device: 'webgpu', sessionOptions: { intraOpNumThreads: 2 } })).toBe(4096);
    expect([bound({ device: 'gpu' }), bound({ device: 'webgpu' }), bound({ device: 'cuda' })]).toEqual([
      4096, 4096, 4096,
    ]);
    expect(bound({ device: 'webgpu', batch: { maxBatchSize: 256 } })).toBe(256);
    // A minimum above the device's bound leaves the maximum to the estimator's own default.
    expect(bound({ device: 'webgpu', batch: { minBatchSize: 5000 } })).toBeUndefined();
  });

  it.each([1, 3, 4, 7, 8, 9])('fixed batch dimension 4: a batch of %i is split/padded into runs of 4', async (size) => {
    const fixture = fixedBatch(4);
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    expect(model.fixedBatchSize).toBe(4);
    const run = jest.spyOn(model.session, 'run');
    const elements = fixture.sample(size, size);
    const results = await handler.runInference(elements, model, context());
    expect(results).toHaveLength(size);
    results.forEach((r, p) => expectTensorClose(r.inference as Tensor, fixture.forward(elements[p]).y));
    expect(run).toHaveBeenCalledTimes(Math.ceil(size / 4));
    for (const [feeds] of run.mock.calls) expect((feeds as Record<string, Tensor>).x.dims).toEqual([4, 3]);
    await handler.releaseModel(model);
  });

  it('an empty batch gives no results and no run', async () => {
    const fixture = mlp([8, 16, 4]);
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
    const model: OnnxModel = await handler.loadModel();
    const run = jest.spyOn(model.session, 'run');
    await expect(handler.runInference([], model, context())).resolves.toEqual([]);
    expect(run).not.toHaveBeenCalled();
    await handler.releaseModel(model);
  });
});
