import { InferenceError, InvalidExampleError, OnnxModelHandler } from '../../../src/index';
import type { OnnxModel } from '../../../src/index';
import { convNet, embedding, fixedBatch, mlp, twoInputsTwoOutputs } from '../../../scripts/fixtures/onnx';
import { asapScheduler } from 'rxjs';
import { BatchAbort, batchContext } from '../../../src/core/batchContext';
import { context } from './onnxTestUtils';

/** Runs `batch` on a fresh model of `bytes` and returns the rejection. */
async function failure(bytes: Uint8Array, batch: readonly unknown[], config = {}): Promise<Error> {
  const handler = new OnnxModelHandler({ modelUri: bytes, ...config });
  const model: OnnxModel = await handler.loadModel();
  try {
    await handler.runInference(batch as never[], model, context());
  } catch (error) {
    return error as Error;
  } finally {
    await handler.releaseModel(model);
  }
  throw new Error('expected the batch to fail');
}

describe('OnnxModelHandler: bad examples fail with InvalidExampleError naming element, input, expected, actual', () => {
  const small = mlp([8, 16, 4]);
  const good = () => small.sample(1)[0];

  it('wrong per-element dims', async () => {
    const error = await failure(small.bytes, [good(), good(), { input: { data: new Float32Array(7), dims: [7] } }]);
    expect(error).toBeInstanceOf(InvalidExampleError);
    expect(error).toMatchObject({ position: 2, field: 'input' });
    expect(error.message).toBe(
      "Element 2 of the batch, input `input`: expected dims [8] (the model's input shape [batch, 8] without its " +
        'batch axis), got [7].',
    );
  });

  it('wrong rank', async () => {
    const error = await failure(small.bytes, [{ input: { data: new Float32Array(8), dims: [2, 4] } }]);
    expect(error).toMatchObject({ name: 'InvalidExampleError', position: 0, field: 'input' });
    expect(error.message).toMatch(/expected dims \[8\].*got \[2, 4\]/);
  });

  it('wrong dtype (Float64Array for a float32 input)', async () => {
    const error = await failure(small.bytes, [good(), { input: { data: new Float64Array(8), dims: [8] } }]);
    expect(error).toMatchObject({ name: 'InvalidExampleError', position: 1, field: 'input' });
    expect(error.message).toBe(
      'Element 1 of the batch, input `input`: expected dtype float32, got float64 (Float64Array).',
    );
  });

  it('wrong explicit type on the right array (bool on a uint8 buffer for a float32 input)', async () => {
    const error = await failure(small.bytes, [{ data: new Uint8Array(8), dims: [8], type: 'bool' }]);
    expect(error.message).toMatch(/expected dtype float32, got bool \(Uint8Array\)/);
  });

  it('int32 ids for an int64 input', async () => {
    const error = await failure(embedding().bytes, [{ ids: { data: Int32Array.of(1, 2, 3), dims: [3] } }]);
    expect(error).toMatchObject({ name: 'InvalidExampleError', position: 0, field: 'ids' });
    expect(error.message).toMatch(/expected dtype int64, got int32 \(Int32Array\)/);
  });

  it('dims that do not fit the data', async () => {
    const error = await failure(small.bytes, [{ data: new Float32Array(6), dims: [8] }]);
    expect(error.message).toBe('Element 0 of the batch, input `input`: dims [8] do not fit its 6 values.');
  });

  it('a missing input in a record', async () => {
    const [element] = twoInputsTwoOutputs().sample(1);
    const error = await failure(twoInputsTwoOutputs().bytes, [element, { a: element.a }]);
    expect(error).toMatchObject({ name: 'InvalidExampleError', position: 1, field: 'b' });
    expect(error.message).toBe(
      "Element 1 of the batch is missing input `b` (the model's inputs: `a`, `b`; the element has: a).",
    );
  });

  it('an input name the model does not have', async () => {
    const [element] = twoInputsTwoOutputs().sample(1);
    const error = await failure(twoInputsTwoOutputs().bytes, [{ ...element, c: element.a }]);
    expect(error).toMatchObject({ name: 'InvalidExampleError', position: 0, field: 'c' });
    expect(error.message).toMatch(/has an input `c` that the model does not have \(its inputs: `a`, `b`\)/);
  });

  it('a single tensor for a two-input model', async () => {
    const error = await failure(twoInputsTwoOutputs().bytes, [{ data: new Float32Array(4), dims: [4] }]);
    expect(error).toMatchObject({ name: 'InvalidExampleError', position: 0 });
    expect(error.message).toMatch(/is a single tensor, but the model has 2 inputs \(`a`, `b`\)/);
  });

  it('something that is not a tensor at all', async () => {
    const error = await failure(small.bytes, [good(), 'hello']);
    expect(error).toMatchObject({ name: 'InvalidExampleError', position: 1 });
    expect(error.message).toMatch(/is not an ONNX example.*got `hello` \(string\)/);
    const inRecord = await failure(small.bytes, [{ input: [1, 2, 3] }]);
    expect(inRecord.message).toMatch(/input `input`: expected an ort.Tensor, `\{ data, dims \}` or a typed array/);
  });

  it('a bare typed array for a multi-dim input with free dims', async () => {
    const error = await failure(convNet().bytes, [new Float32Array(64)]);
    expect(error.message).toMatch(/a bare typed array needs a 1-D or fully fixed per-element shape/);
  });

  it('elements of different shapes forced into one batch (a batchKeyFn overridden away)', async () => {
    const conv = convNet();
    const batch = [...conv.sample(2), ...conv.sample(1, 1, { image: [1, 6, 10] })];
    const error = await failure(conv.bytes, batch);
    expect(error).toMatchObject({ name: 'InvalidExampleError', position: 2, field: 'image' });
    expect(error.message).toMatch(/dims \[1, 6, 10\] differ from element 0's \[1, 8, 8\]/);
  });

  it('a fixed dim of a fixed-batch model is checked too', async () => {
    const error = await failure(fixedBatch().bytes, [{ x: { data: new Float32Array(4), dims: [4] } }]);
    expect(error.message).toMatch(/expected dims \[3\] \(the model's input shape \[4, 3\]/);
  });

  it('NaN and ±Infinity fail by default, naming the element, the input and the index; allowNonFinite accepts them', async () => {
    const nan = Float32Array.from({ length: 8 }, (_, i) => (i === 5 ? NaN : 0.5));
    const inf = Float32Array.from({ length: 8 }, (_, i) => (i === 2 ? -Infinity : 0.5));
    const error = await failure(small.bytes, [good(), nan]);
    expect(error).toMatchObject({ name: 'InvalidExampleError', position: 1, field: 'input' });
    expect(error.message).toBe(
      'Element 1 of the batch, input `input`: expected a finite number, got `NaN` at index 5 (set `allowNonFinite: true` to accept NaN and Infinity).',
    );
    const infError = await failure(small.bytes, [inf]);
    expect(infError.message).toMatch(/input `input`: expected a finite number, got `-Infinity` at index 2/);
    // The deprecated `rejectNaN: true` is the default; `rejectNaN: false` and `allowNonFinite: true` accept.
    expect((await failure(small.bytes, [nan], { rejectNaN: true })).message).toMatch(/got `NaN` at index 5/);
    for (const config of [{ allowNonFinite: true }, { rejectNaN: false }, { allowNonFinite: true, rejectNaN: true }]) {
      const handler = new OnnxModelHandler({ modelUri: small.bytes, ...config });
      const model = await handler.loadModel();
      const [result] = await handler.runInference([nan], model, context());
      expect(Number.isNaN((result.inference as { data: Float32Array }).data[0])).toBe(true);
      await handler.releaseModel(model);
    }
  });

  it('a runtime failure (embedding id out of range) is an InferenceError with the cause', async () => {
    const error = await failure(embedding().bytes, [{ ids: { data: BigInt64Array.of(1n, 99n, 2n), dims: [3] } }]);
    expect(error).toBeInstanceOf(InferenceError);
    expect(error).toMatchObject({ batchSize: 1 });
    expect(error.message).toMatch(/^ONNX Runtime failed on a batch of 1 \(rows 0–0\) of `<\d+ bytes>`: /);
    expect(error.message).toMatch(/indices element out of data bounds/);
    expect((error.cause as Error).message).toMatch(/indices element out of data bounds/);
  });

  it('an aborted signal stops before the next run', async () => {
    const fixture = fixedBatch();
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    const run = jest.spyOn(model.session, 'run');
    const controller = new AbortController();
    controller.abort(new Error('unsubscribed'));
    await expect(handler.runInference(fixture.sample(6), model, context('m', controller.signal))).rejects.toThrow(
      'unsubscribed',
    );
    expect(run).not.toHaveBeenCalled();
    await handler.releaseModel(model);
  });

  it("the engine's context: runs without creating its signal, and an abort during a run stops before the next", async () => {
    const fixture = fixedBatch();
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    const abort = new BatchAbort();
    const reads = jest.spyOn(abort, 'signal', 'get');
    const original = model.session.run.bind(model.session);
    const run = jest.spyOn(model.session, 'run').mockImplementation(async (...args: Parameters<typeof original>) => {
      expect(reads).not.toHaveBeenCalled();
      abort.abort(new Error('unsubscribed'));
      return original(...args);
    });
    const batch = fixture.sample(6); // two runs of the fixed batch size 4
    await expect(
      handler.runInference(batch, model, batchContext(undefined, 'm', asapScheduler, abort)),
    ).rejects.toThrow('unsubscribed');
    expect(run).toHaveBeenCalledTimes(1);
    await handler.releaseModel(model);
  });
});

describe('OnnxModelHandler: config validation', () => {
  it.each([
    [{ modelUri: '' }, /Expected `modelUri` to be a file path or the model's bytes \(Uint8Array\), got `` \(string\)/],
    [{ modelUri: 42 }, /modelUri.*`42` \(number\)/],
    [
      { modelUri: 'm.onnx', device: 'tpu' },
      /Expected `device` to be one of 'cpu', 'gpu', 'webgpu', 'cuda', got `tpu` \(string\)/,
    ],
    [{ modelUri: 'm.onnx', rejectNaN: 'yes' }, /rejectNaN/],
    [{ modelUri: 'm.onnx', allowNonFinite: 1 }, /allowNonFinite/],
    [{ modelUri: 'm.onnx', onWarning: 'console' }, /onWarning/],
    [
      { modelUri: 'm.onnx', outputNames: [] },
      /Expected `outputNames` to be a non-empty array of distinct output names/,
    ],
    [{ modelUri: 'm.onnx', outputNames: ['a', 'a'] }, /outputNames/],
    [{ modelUri: 'm.onnx', sessionOptions: 3 }, /sessionOptions/],
  ])('rejects %j', (config, message) => {
    expect(() => new OnnxModelHandler(config as never)).toThrow(message);
  });

  it('throws TypeError for wrong types and RangeError for an unknown device', () => {
    expect(() => new OnnxModelHandler({ modelUri: 1 } as never)).toThrow(TypeError);
    expect(() => new OnnxModelHandler({ modelUri: 'm.onnx', device: 'tpu' } as never)).toThrow(RangeError);
    expect(() => new OnnxModelHandler(undefined as never)).toThrow(TypeError);
  });

  it('takes no inference args', () => {
    const handler = new OnnxModelHandler({ modelUri: 'm.onnx' });
    expect(() => handler.validateInferenceArgs({ x: 1 })).toThrow(/takes no inference args/);
    expect(() => handler.validateInferenceArgs(undefined)).not.toThrow();
  });
});
