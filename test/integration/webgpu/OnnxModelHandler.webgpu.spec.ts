import type { Tensor } from 'onnxruntime-node';
import { BehaviorSubject, concat, firstValueFrom, from, switchMap, timer, toArray } from 'rxjs';
import { runInference, OnnxModelHandler, OnnxWorkerModelHandler } from '../../../src/index';
import type { OnnxInference } from '../../../src/index';
import { convNet, embedding, mlp, twoInputsTwoOutputs, type OnnxFixture } from '../../../scripts/fixtures/onnx';
import { context, expectTensorClose, tempModels } from '../onnx/onnxTestUtils';
import { describeWebGpu } from './webgpuProbe';

/** Every output of every element equals the plain-JS reference (and so the CPU's) within `tolerance`. */
function expectMatchesReference(
  fixture: OnnxFixture,
  elements: ReturnType<OnnxFixture['sample']>,
  inferences: readonly OnnxInference[],
  tolerance = 1e-4,
): void {
  inferences.forEach((inference, p) => {
    const expected = fixture.forward(elements[p]);
    const outputs = fixture.outputNames.length === 1 ? { [fixture.outputNames[0]]: inference as Tensor } : inference;
    for (const name of fixture.outputNames) {
      expectTensorClose((outputs as Record<string, Tensor>)[name], expected[name], tolerance);
    }
  });
}

/** Records the device of every model it loads. */
class RecordingHandler extends OnnxModelHandler {
  readonly devices: string[] = [];
  override async loadModel(modelId?: string) {
    const model = await super.loadModel(modelId);
    this.devices.push(model.device);
    return model;
  }
}

const FIXTURES: readonly [string, OnnxFixture][] = [
  ['MLP 16→32→8', mlp([16, 32, 8])],
  ['conv net (Conv, MaxPool, Gemm)', convNet()],
  ['two inputs, two outputs (float32 + int64)', twoInputsTwoOutputs()],
  ['int64 embedding lookup', embedding()],
];

describeWebGpu("OnnxModelHandler on device 'webgpu'", () => {
  it.each(FIXTURES)('%s: results equal the CPU within tolerance', async (_, fixture) => {
    const gpu = new OnnxModelHandler({ modelUri: fixture.bytes, device: 'webgpu' });
    const cpu = new OnnxModelHandler({ modelUri: fixture.bytes });
    const [gpuModel, cpuModel] = [await gpu.loadModel(), await cpu.loadModel()];
    try {
      expect(gpuModel.device).toBe('webgpu');
      expect(cpuModel.device).toBe('cpu');
      const elements = fixture.sample(9);
      const onGpu = await gpu.runInference(elements, gpuModel, context());
      const onCpu = await cpu.runInference(elements, cpuModel, context());
      expectMatchesReference(
        fixture,
        elements,
        onGpu.map((r) => r.inference),
      );
      expectMatchesReference(
        fixture,
        elements,
        onCpu.map((r) => r.inference),
      );
    } finally {
      await gpu.releaseModel(gpuModel);
      await cpu.releaseModel(cpuModel);
    }
  });

  it("device 'gpu' takes WebGPU here (no CUDA provider), warning once with what it tried", async () => {
    const fixture = mlp([8, 16, 4]);
    const files = tempModels({ 'v2.onnx': mlp([8, 16, 4], { seed: 9 }).bytes });
    const warnings: string[] = [];
    const handler = new OnnxModelHandler({
      modelUri: fixture.bytes,
      device: 'gpu',
      onWarning: (m) => warnings.push(m),
    });
    try {
      const first = await handler.loadModel();
      // A refresh (a new model id) loads on the same device, without a second warning.
      const second = await handler.loadModel(files.path('v2.onnx'));
      expect([first.device, second.device]).toEqual(['webgpu', 'webgpu']);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^OnnxModelHandler: device 'gpu' requested; running on webgpu \(tried cuda: .+\)\.$/);
      const elements = fixture.sample(5);
      const results = await handler.runInference(elements, first, context());
      expectMatchesReference(
        fixture,
        elements,
        results.map((r) => r.inference),
      );
      await handler.releaseModel(first);
      await handler.releaseModel(second);
    } finally {
      files.cleanup();
    }
  });

  it('a model refreshed through the side input runs on WebGPU too, with its own results', async () => {
    const [v1, v2] = [mlp([8, 16, 4]), mlp([8, 16, 4], { seed: 9 })];
    const files = tempModels({ 'v1.onnx': v1.bytes, 'v2.onnx': v2.bytes });
    const handler = new RecordingHandler({ modelUri: files.path('v1.onnx'), device: 'webgpu' });
    try {
      const metadata = new BehaviorSubject({ modelId: files.path('v1.onnx'), modelName: 'v1' });
      const elements = v1.sample(6);
      // Real time (WebGPU sessions load in tens of ms): v1 serves the first three, then v2 is loaded and serves the rest.
      const source = concat(
        from(elements.slice(0, 3)),
        timer(300).pipe(
          switchMap(() => {
            metadata.next({ modelId: files.path('v2.onnx'), modelName: 'v2' });
            return timer(300);
          }),
          switchMap(() => from(elements.slice(3))),
        ),
      );
      const results = await firstValueFrom(source.pipe(runInference(handler, { modelMetadata: metadata }), toArray()));
      expect(handler.devices).toEqual(['webgpu', 'webgpu']);
      expect(results.map((r) => r.modelId)).toEqual([
        ...Array(3).fill(files.path('v1.onnx')),
        ...Array(3).fill(files.path('v2.onnx')),
      ]);
      results.forEach((result, p) => expectMatchesReference(p < 3 ? v1 : v2, [elements[p]], [result.inference]));
    } finally {
      files.cleanup();
    }
  });

  it('20 load/release cycles do not grow the resident memory without bound', async () => {
    const fixture = mlp([256, 1024, 1024, 10]); // ≈ 5 MB of weights: a session leaked per cycle would show
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes, device: 'webgpu' });
    // Each cycle creates the session (weights uploaded to the device), runs a batch once in a while, releases it.
    const cycle = async (run: boolean) => {
      const model = await handler.loadModel();
      if (run) await handler.runInference(fixture.sample(4), model, context());
      await handler.releaseModel(model);
    };
    for (let i = 0; i < 2; i++) await cycle(true); // warm-up: Dawn's device, shader caches
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 20; i++) await cycle(i % 5 === 0);
    const grown = process.memoryUsage().rss - before;
    // Measured on lavapipe: 13–28 MB over 20 cycles (allocator caches), ≈ 190 MB when the sessions are not released.
    expect(grown).toBeLessThan(96 * 1024 * 1024);
  });
});

describeWebGpu("OnnxWorkerModelHandler on device 'webgpu'", () => {
  it("runs in its worker on WebGPU ('gpu' reports 'webgpu') with the CPU's results", async () => {
    const fixture = twoInputsTwoOutputs();
    const handler = new OnnxWorkerModelHandler({ modelUri: fixture.bytes, device: 'gpu', onWarning: () => undefined });
    const model = await handler.loadModel();
    try {
      expect(model.device).toBe('webgpu');
      expect(model.pool.size).toBe(1); // WebGPU runs are serialized anyway: one worker by default
      const elements = fixture.sample(7);
      const results = await handler.runInference(elements, model, context());
      expectMatchesReference(
        fixture,
        elements,
        results.map((r) => r.inference),
      );
    } finally {
      await handler.releaseModel(model);
    }
  });

  it('pipelines by default (the worker holds its next batch): every result in order, equal to the CPU', async () => {
    const fixture = mlp([16, 32, 4], { seed: 21 });
    const handler = new OnnxWorkerModelHandler({ modelUri: fixture.bytes, device: 'webgpu' });
    expect(handler.concurrency()).toBe(2);
    const elements = fixture.sample(96, 6);
    const results = await firstValueFrom(
      from(elements).pipe(
        runInference(handler, { metrics: false, batch: { minBatchSize: 8, maxBatchSize: 8 } }),
        toArray(),
      ),
    );
    expect(results.map((r) => r.example)).toEqual(elements);
    expectMatchesReference(
      fixture,
      elements,
      results.map((r) => r.inference),
    );
  });
});
