import type { Tensor } from 'onnxruntime-node';
import { firstValueFrom, from, toArray } from 'rxjs';
import { runInference, OnnxModelHandler, OnnxWorkerModelHandler } from '../../../src/index';
import { mlp } from '../../../scripts/fixtures/onnx';
import { expectTensorClose } from '../onnx/onnxTestUtils';
import { describeWebGpu } from './webgpuProbe';

// Without the process-wide lock this configuration crashes the process (reproduced on lavapipe: two worker threads
// running WebGPU sessions at once segfault or abort with "double free or corruption" within a few hundred runs).
describeWebGpu('WebGPU from several operators, sessions and worker threads at once', () => {
  it('two inline operators and two worker handlers (two threads each) run together without a crash', async () => {
    const fixtures = [mlp([16, 32, 4], { seed: 1 }), mlp([16, 32, 4], { seed: 2 })];
    const inline = fixtures.map((f) => new OnnxModelHandler({ modelUri: f.bytes, device: 'webgpu' }));
    const workers = fixtures.map(
      (f) => new OnnxWorkerModelHandler({ modelUri: f.bytes, device: 'webgpu', workers: 2 }),
    );
    const elements = fixtures[0].sample(240);
    // Subscribed together: the inline runs (main thread) and the four workers' runs interleave. Small batches with
    // several in flight give many WebGPU runs.
    const byHandler = await Promise.all(
      [...inline, ...workers].map((handler) =>
        firstValueFrom(
          from(elements).pipe(runInference(handler, { concurrent: 2, batch: { maxBatchSize: 8 } }), toArray()),
        ),
      ),
    );
    byHandler.forEach((results, h) => {
      const fixture = fixtures[h % 2];
      expect(results).toHaveLength(elements.length);
      results.forEach((r, p) => expectTensorClose(r.inference as Tensor, fixture.forward(elements[p]).output, 1e-4));
    });
  }, 120_000);
});
