import { createRequire } from 'node:module';
import { InferenceError, ModelLoadError, OnnxModelHandler, OnnxWorkerModelHandler } from '../../../src/index';
import { OnnxWorkerPool } from '../../../src/handlers/onnx/worker/OnnxWorkerPool';
import { WorkerRunError } from '../../../src/handlers/onnx/worker/WorkerRunError';
import { corruptModel, mlp } from '../../../scripts/fixtures/onnx';
import { context, expectTensorClose, rejection } from '../onnx/onnxTestUtils';
import type { Tensor } from 'onnxruntime-node';

const ortPath = createRequire(__filename).resolve('onnxruntime-node');
const fixture = mlp([4, 8, 2]);

function pool(model: string | Uint8Array, path = ortPath) {
  return new OnnxWorkerPool({ ortPath: path, model, source: 'test-model', sessionOptions: {}, size: 1 });
}

describe('OnnxWorkerPool', () => {
  it('runs a batch with transferred inputs and gives the outputs back', async () => {
    const workers = pool(fixture.bytes);
    try {
      await workers.ready;
      const data = new Float32Array(8).fill(0.5);
      const outputs = await workers.run({ input: { type: 'float32', data, dims: [2, 4] } }, ['output'], undefined);
      // The input buffer went to the worker: it is detached here.
      expect(data.byteLength).toBe(0);
      expect(outputs.output.dims).toEqual([2, 2]);
      const expected = fixture.forward({ input: { type: 'float32', data: new Float32Array(4).fill(0.5), dims: [4] } });
      expect(Array.from(outputs.output.data as Float32Array).slice(0, 2)).toEqual(
        Array.from(expected.output.data as Float32Array).map((v) => expect.closeTo(v, 5)),
      );
    } finally {
      await workers.release();
    }
  });

  it('rejects with the worker’s message when session.run throws, and keeps serving', async () => {
    const workers = pool(fixture.bytes);
    try {
      const bad = workers.run({ input: { type: 'float32', data: new Float32Array(3), dims: [1, 3] } }, ['output'], {});
      const error = await rejection(bad);
      expect(error).toBeInstanceOf(WorkerRunError);
      expect(error.message).toMatch(/invalid dimensions for input: input/);
      const ok = await workers.run(
        { input: { type: 'float32', data: new Float32Array(4), dims: [1, 4] } },
        ['output'],
        {},
      );
      expect(ok.output.dims).toEqual([1, 2]);
    } finally {
      await workers.release();
    }
  });

  it('fails `ready` and every run with a ModelLoadError when a worker cannot load the model', async () => {
    const workers = pool(corruptModel());
    const error = await rejection(workers.ready);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toMatch(/^Cannot load ONNX model `test-model` in a worker thread: /);
    const run = workers.run({ input: { type: 'float32', data: new Float32Array(4), dims: [1, 4] } }, ['output'], {});
    expect(await rejection(run)).toBe(error);
    await workers.release();
  });

  it('fails `ready` with a ModelLoadError when a worker dies before loading (runtime not found)', async () => {
    const workers = pool(fixture.bytes, '/nonexistent/onnxruntime-node/index.js');
    const error = await rejection(workers.ready);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toMatch(/in a worker thread: .*Cannot find module/);
    await workers.release();
  });
});

describe('OnnxWorkerModelHandler run failures and device fallback', () => {
  it('wraps a failing run in the same InferenceError as the inline handler', async () => {
    const config = { modelUri: fixture.bytes, runOptions: { logSeverityLevel: 9 as never } };
    const elements = fixture.sample(3, 2);
    const worker = new OnnxWorkerModelHandler({ ...config, workers: 1 });
    const inline = new OnnxModelHandler(config);
    const [workerModel, inlineModel] = [await worker.loadModel(), await inline.loadModel()];
    try {
      const viaWorker = await rejection(worker.runInference(elements, workerModel, context()));
      const viaInline = await rejection(inline.runInference(elements, inlineModel, context()));
      expect(viaWorker).toBeInstanceOf(InferenceError);
      expect(viaWorker.message).toBe(viaInline.message);
      expect(viaWorker.message).toMatch(
        /^ONNX Runtime failed on a batch of 3 \(rows 0–2\) of `<\d+ bytes>`: .*logSeverityLevel/,
      );
    } finally {
      await worker.releaseModel(workerModel);
      await inline.releaseModel(inlineModel);
    }
  });

  it("device 'gpu': warns once, runs on the device the main thread settled on, in the workers", async () => {
    const warnings: string[] = [];
    const handler = new OnnxWorkerModelHandler({
      modelUri: fixture.bytes,
      device: 'gpu',
      workers: 1,
      onWarning: (message) => warnings.push(message),
    });
    const model = await handler.loadModel();
    try {
      // No CUDA provider here: WebGPU where an adapter exists (lavapipe in CI), else the CPU.
      expect(['webgpu', 'cpu']).toContain(model.device);
      expect(warnings).toEqual([expect.stringMatching(new RegExp(`running on (the CPU|webgpu) \\(tried cuda: `))]);
      const elements = fixture.sample(2, 3);
      const results = await handler.runInference(elements, model, context());
      results.forEach((r, p) => expectTensorClose(r.inference as Tensor, fixture.forward(elements[p]).output, 1e-4));
    } finally {
      await handler.releaseModel(model);
    }
  });
});
