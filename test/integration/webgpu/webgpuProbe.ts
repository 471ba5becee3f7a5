import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { mlp } from '../../../scripts/fixtures/onnx';
import { tempModels } from '../onnx/onnxTestUtils';

const ROOT = resolve(__dirname, '../../..');
const CACHE = 'RXJS_INFERENCE_TEST_WEBGPU';

/**
 * Whether onnxruntime-node can create a WebGPU session here (a Vulkan loader and an adapter: a GPU's driver, or Mesa
 * 25's lavapipe as `.ci/system-packages` installs): a real session of a tiny MLP, created in a child process so that
 * the answer is known synchronously, when jest collects the tests (`describe` or `describe.skip`). Probed once per
 * jest worker process (cached in its environment).
 */
export function webGpuAvailable(): boolean {
  const cached = process.env[CACHE];
  if (cached !== undefined) return cached === '1';
  const files = tempModels({ 'probe.onnx': mlp([2, 2]).bytes });
  try {
    const probe = spawnSync(
      process.execPath,
      [
        '-e',
        `require('onnxruntime-node').InferenceSession.create(${JSON.stringify(files.path('probe.onnx'))}, ` +
          `{ executionProviders: ['webgpu'] }).then(() => process.exit(0), () => process.exit(1));`,
      ],
      { cwd: ROOT, stdio: 'ignore', timeout: 60_000 },
    );
    process.env[CACHE] = probe.status === 0 ? '1' : '0';
  } finally {
    files.cleanup();
  }
  return process.env[CACHE] === '1';
}

/** `describe` where WebGPU works, else `describe.skip` with a title that says why (one clear line in the report). */
export function describeWebGpu(title: string, body: () => void): void {
  if (webGpuAvailable()) describe(`${title} (WebGPU)`, body);
  else
    describe.skip(
      `${title} — SKIPPED: no WebGPU adapter (install libvulkan1 and Mesa 25's lavapipe, see README "Devices")`,
      body,
    );
}
