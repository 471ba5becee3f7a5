import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { OnnxModelHandler } from '../../../src/index';
import { mlp } from '../../../scripts/fixtures/onnx';
import { rejection } from '../onnx/onnxTestUtils';

const ROOT = resolve(__dirname, '../../..');
const ORT_BIN = join(
  dirname(createRequire(__filename).resolve('onnxruntime-node')),
  '..',
  'bin',
  'napi-v6',
  process.platform,
  process.arch,
);
const CUDA_INSTALLED = existsSync(join(ORT_BIN, 'libonnxruntime_providers_cuda.so'));

// A machine without a usable Vulkan driver, simulated in a child process: the Vulkan loader reads VK_DRIVER_FILES
// when Dawn starts, and a file that does not exist leaves it no driver (the same as a laptop without Vulkan).
(process.platform === 'linux' ? describe : describe.skip)('device choice where no WebGPU adapter exists', () => {
  it("'webgpu' fails to load with a ModelLoadError naming what is missing; 'gpu' falls back to the CPU, warning once", () => {
    const script = `
      const { OnnxModelHandler } = require('./src/handlers/onnx/OnnxModelHandler.ts');
      const { mlp } = require('./scripts/fixtures/onnx');
      (async () => {
        const fixture = mlp([4, 8, 2]);
        const out = {};
        try {
          await new OnnxModelHandler({ modelUri: fixture.bytes, device: 'webgpu' }).loadModel();
          out.webgpu = 'loaded';
        } catch (e) {
          out.webgpu = { name: e.name, message: e.message };
        }
        const warnings = [];
        const gpu = new OnnxModelHandler({ modelUri: fixture.bytes, device: 'gpu', onWarning: (m) => warnings.push(m) });
        const [first, second] = [await gpu.loadModel(), await gpu.loadModel()];
        const elements = fixture.sample(3);
        const results = await gpu.runInference(elements, second, { signal: new AbortController().signal });
        const error = Math.max(...results.flatMap((r, p) =>
          Array.from(r.inference.data, (v, i) => Math.abs(v - fixture.forward(elements[p]).output.data[i]))));
        out.gpu = { devices: [first.device, second.device], warnings, error };
        // The default onWarning is console.warn (standard error).
        await new OnnxModelHandler({ modelUri: fixture.bytes, device: 'gpu' }).loadModel();
        console.log(JSON.stringify(out));
      })();`;
    const child = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, VK_DRIVER_FILES: '/nonexistent/no-driver.json', VK_ICD_FILENAMES: '' },
    });
    expect(child.status).toBe(0);
    const out = JSON.parse(child.stdout.trim().split('\n').pop()!);
    expect(out.webgpu).toEqual({
      name: 'ModelLoadError',
      message: expect.stringMatching(
        /^Cannot load ONNX model `<\d+ bytes>` on device 'webgpu': no (WebGPU adapter|Vulkan loader)/,
      ),
    });
    expect(out.gpu.devices).toEqual(['cpu', 'cpu']);
    expect(out.gpu.warnings).toEqual([
      expect.stringMatching(
        /^OnnxModelHandler: device 'gpu' requested; running on the CPU \(tried cuda: .+; webgpu: no (WebGPU adapter|Vulkan loader).*\)\.$/,
      ),
    ]);
    expect(out.gpu.error).toBeLessThan(1e-5);
    expect(child.stderr).toMatch(/OnnxModelHandler: device 'gpu' requested; running on the CPU/);
  }, 90_000);
});

(CUDA_INSTALLED ? describe.skip : describe)("device 'cuda' without onnxruntime-node's CUDA provider", () => {
  it('fails to load with a ModelLoadError that says the provider is not installed', async () => {
    const error = await rejection(new OnnxModelHandler({ modelUri: mlp([2, 2]).bytes, device: 'cuda' }).loadModel());
    expect(error).toMatchObject({
      name: 'ModelLoadError',
      message: expect.stringMatching(
        /^Cannot load ONNX model `<\d+ bytes>` on device 'cuda': no CUDA provider: libonnxruntime_providers_cuda\.so is not installed/,
      ),
    });
  });
});
