import type { Tensor } from 'onnxruntime-node';
import { ModelHandler, OnnxModelHandler, type OnnxExample, type OnnxTensor } from '../../../src/index';
import { TensorBufferPool } from '../../../src/tensors/TensorBufferPool';
import { firstNonFiniteInPlace } from '../../../src/tensors/scannableFloats';
import { fixedBatch, identity } from '../../../scripts/fixtures/onnx';
import { context, expectTensorClose } from './onnxTestUtils';

// The inline handler stacks each batch into an input buffer it reuses for later batches (issue 11). These tests pin
// what that must never change: every result keeps its own values, whatever runs after it.

const WIDTH = 16;
const rows = (n: number, base: number) =>
  Array.from({ length: n }, (_, p) => Float32Array.from({ length: WIDTH }, (_, i) => base + p * WIDTH + i));
const values = (t: OnnxTensor) => Array.from(t.data as Float32Array);

describe('OnnxModelHandler: batch input buffers reused across batches', () => {
  const fixture = identity(WIDTH);

  it("never changes an earlier batch's results (Identity model: outputs are views, never of the input buffer)", async () => {
    const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    const acquire = jest.spyOn(TensorBufferPool.prototype, 'acquire');
    const release = jest.spyOn(TensorBufferPool.prototype, 'release');
    try {
      const batches = [rows(8, 0), rows(8, 1000), rows(5, 2000), rows(8, 3000)];
      const results = [];
      for (const batch of batches) results.push(await handler.runInference(batch, model, context()));
      expect(acquire).toHaveBeenCalledTimes(4);
      expect(release).toHaveBeenCalledTimes(4);
      // The second batch was stacked into the first batch's buffer (so the checks below are of a real reuse).
      const [first, second] = acquire.mock.results.map((r) => r.value as Float32Array);
      expect(second.buffer).toBe(first.buffer);
      results.forEach((batchResults, b) =>
        batchResults.forEach((r, p) => expect(values(r.inference)).toEqual(Array.from(batches[b][p]))),
      );
    } finally {
      acquire.mockRestore();
      release.mockRestore();
      await handler.releaseModel(model);
    }
  });

  it('gives batches in flight at once buffers of their own', async () => {
    const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    try {
      await handler.runInference(rows(6, 0), model, context()); // one buffer in the pool
      const batches = [rows(6, 100), rows(6, 200), rows(3, 300)];
      const all = await Promise.all(batches.map((batch) => handler.runInference(batch, model, context())));
      all.forEach((results, b) =>
        results.forEach((r, p) => expect(values(r.inference)).toEqual(Array.from(batches[b][p]))),
      );
    } finally {
      await handler.releaseModel(model);
    }
  });

  it('keeps padded runs of a fixed-batch-size model right after a full run used the buffer', async () => {
    const fixed = fixedBatch(4);
    const handler = new OnnxModelHandler({ modelUri: fixed.bytes });
    const model = await handler.loadModel();
    try {
      for (const n of [4, 3, 6, 1]) {
        const elements = fixed.sample(n, n);
        const results = await handler.runInference(elements, model, context());
        results.forEach((r, p) => expectTensorClose(r.inference as Tensor, fixed.forward(elements[p]).y));
      }
    } finally {
      await handler.releaseModel(model);
    }
  });

  it('gives a failed run its buffer back too, and releaseModel drops the buffers', async () => {
    const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    const release = jest.spyOn(TensorBufferPool.prototype, 'release');
    const clear = jest.spyOn(TensorBufferPool.prototype, 'clear');
    const run = jest.spyOn(model.session, 'run').mockRejectedValueOnce(new Error('native failure'));
    try {
      await expect(handler.runInference(rows(2, 0), model, context())).rejects.toThrow(/native failure/);
      expect(release).toHaveBeenCalledTimes(1);
      const results = await handler.runInference(rows(2, 10), model, context());
      expect(values(results[1].inference)).toEqual(Array.from(rows(2, 10)[1]));
      expect(clear).not.toHaveBeenCalled();
      await handler.releaseModel(model);
      expect(clear).toHaveBeenCalledTimes(1);
      expect((clear.mock.contexts[0] as TensorBufferPool).size).toBe(0);
    } finally {
      run.mockRestore();
      release.mockRestore();
      clear.mockRestore();
    }
  });

  it('scans the stacked buffer for NaN and ±Infinity: same error as before, the buffer given back, the next batch right', async () => {
    const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    const release = jest.spyOn(TensorBufferPool.prototype, 'release');
    try {
      await handler.runInference(rows(8, 0), model, context()); // the buffer the next batches reuse
      const bad = rows(8, 100);
      bad[5][WIDTH - 1] = NaN;
      bad[6][0] = Infinity;
      const error = await handler.runInference(bad, model, context()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        position: 5,
        field: 'x',
        message: `Element 5 of the batch, input \`x\`: expected a finite number, got \`NaN\` at index ${WIDTH - 1} (set \`allowNonFinite: true\` to accept NaN and Infinity).`,
      });
      expect(release).toHaveBeenCalledTimes(2);
      const good = rows(8, 200);
      const results = await handler.runInference(good, model, context());
      results.forEach((r, p) => expect(values(r.inference)).toEqual(Array.from(good[p])));
      // allowNonFinite: the values go through as they are.
      const lenient = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: fixture.bytes, allowNonFinite: true });
      const [first] = await lenient.runInference(bad, model, context());
      expect(Number.isNaN((first.inference.data as Float32Array)[0])).toBe(false);
      const sixth = (await lenient.runInference(bad, model, context()))[5];
      expect(Number.isNaN((sixth.inference.data as Float32Array)[WIDTH - 1])).toBe(true);
    } finally {
      release.mockRestore();
      await handler.releaseModel(model);
    }
  });

  it('stacks float batches in scannable memory only when the NaN/Infinity check is on', async () => {
    const acquire = jest.spyOn(TensorBufferPool.prototype, 'acquire');
    try {
      for (const allowNonFinite of [false, true]) {
        const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: fixture.bytes, allowNonFinite });
        const model = await handler.loadModel();
        try {
          acquire.mockClear();
          const batch = rows(4, 0);
          const results = await handler.runInference(batch, model, context());
          results.forEach((r, p) => expect(values(r.inference)).toEqual(Array.from(batch[p])));
          const stacked = acquire.mock.results[0].value as Float32Array;
          // The in-place scan answers undefined for memory it cannot read (a plain array).
          expect(firstNonFiniteInPlace(stacked) === undefined).toBe(allowNonFinite);
        } finally {
          await handler.releaseModel(model);
        }
      }
    } finally {
      acquire.mockRestore();
    }
  });

  it('gives the stacked buffer back when the batch was aborted before its run', async () => {
    const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    const release = jest.spyOn(TensorBufferPool.prototype, 'release');
    const run = jest.spyOn(model.session, 'run');
    try {
      const abort = new AbortController();
      abort.abort(new Error('stopped'));
      await expect(handler.runInference(rows(4, 0), model, context('m', abort.signal))).rejects.toThrow('stopped');
      expect(run).not.toHaveBeenCalled();
      expect(release).toHaveBeenCalledTimes(1);
    } finally {
      run.mockRestore();
      release.mockRestore();
      await handler.releaseModel(model);
    }
  });

  it('does not reuse buffers with an inferenceFn, which may hand its feeds back as outputs', async () => {
    const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({
      modelUri: fixture.bytes,
      inferenceFn: (_session, feeds) => ({ y: feeds.x }),
    });
    const model = await handler.loadModel();
    try {
      const batches = [rows(4, 0), rows(4, 500)];
      const results = [];
      for (const batch of batches) results.push(await handler.runInference(batch, model, context()));
      results.forEach((batchResults, b) =>
        batchResults.forEach((r, p) => expect(values(r.inference)).toEqual(Array.from(batches[b][p]))),
      );
    } finally {
      await handler.releaseModel(model);
    }
  });
});

describe('OnnxModelHandler.getNumBytes', () => {
  it('counts what the default estimate counts, with or without the typed-array fast path', () => {
    const handler = new OnnxModelHandler({ modelUri: identity(4).bytes });
    const generic = new (class extends ModelHandler<unknown, unknown, unknown> {
      loadModel = () => ({});
      runInference = () => [];
    })();
    const typed = [new Float32Array(4), new Float64Array(3), new BigInt64Array(2), new Uint8Array(5).subarray(1)];
    const mixed: OnnxExample[] = [...typed, { data: new Float32Array(6), dims: [6] }, { x: new Int32Array(7) }];
    expect(handler.getNumBytes(typed)).toBe(16 + 24 + 16 + 4);
    expect(handler.getNumBytes(typed)).toBe(generic.getNumBytes(typed));
    expect(handler.getNumBytes(mixed)).toBe(generic.getNumBytes(mixed));
    expect(handler.getNumBytes(mixed)).toBe(60 + 24 + 28);
    expect(handler.getNumBytes([])).toBe(0);
  });
});
