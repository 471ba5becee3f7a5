// Runs an ONNX model on the best device this machine offers (`device: 'gpu'`: CUDA, else WebGPU, else the CPU) and
// shows where it ran: the fallback warning, and the `model_device_<device>` metric.
//
//   npx tsx examples/gpu-device.ts
//
// On a machine with a Vulkan driver (a GPU's, or Mesa's lavapipe) it runs on WebGPU through onnxruntime-node's
// bundled provider; without one it runs on the CPU. See docs/gpu.md.
import { from, lastValueFrom, toArray } from 'rxjs';
import { MetricsRegistry, runInference } from 'rxjs-inference';
import { OnnxModelHandler, type OnnxTensor } from 'rxjs-inference/handlers';
import { mlp } from '../scripts/fixtures/onnx';

async function main(): Promise<void> {
  const fixture = mlp([8, 32, 4], { seed: 2024 });
  const features = fixture.sample(6, 7).map(({ input }) => input.data as Float32Array);
  const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({
    modelUri: fixture.bytes,
    device: 'gpu',
    // Called once if the best device could not be used: what was tried, and why.
    onWarning: (message) => console.log(`warning: ${message}`),
  });
  const metrics = new MetricsRegistry();
  const results = await lastValueFrom(from(features).pipe(runInference(handler, { metrics }), toArray()));
  for (const [i, { inference }] of results.entries()) {
    console.log(`example ${i} → ${Array.from(inference.data as Float32Array, (v) => v.toFixed(3)).join(' ')}`);
  }
  const devices = Object.keys(metrics.snapshot().gauges).filter((name) => name.includes('model_device_'));
  console.log(`ran on: ${devices.map((name) => name.split('model_device_')[1]).join(', ')} (${devices.join(', ')})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
