import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../../../src/cli/runCli';
import { featureRows, jsonLines, memoryIO, reference, writeMlp } from '../../cli/cliFixtures';
import { describeWebGpu } from './webgpuProbe';

const ROOT = resolve(__dirname, '../../..');

describe('rxjs-inference predict --device', () => {
  let dir: string;
  let model: ReturnType<typeof writeMlp>;
  const rows = featureRows(40);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-device-'));
    model = writeMlp(dir);
    writeFileSync(join(dir, 'in.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const predict = async (device: string) => {
    const { io, stderr } = memoryIO();
    const [output, summary] = [join(dir, `out-${device}.jsonl`), join(dir, `summary-${device}.json`)];
    const args = ['predict', '-m', model.path, '-i', join(dir, 'in.jsonl'), '-o', output, '--no-progress'];
    const code = await runCli([...args, '--device', device, '--summary-json', summary], io);
    return { code, stderr: stderr(), output, summary };
  };

  it('rejects an unknown device as a usage error', async () => {
    const { io, stderr } = memoryIO();
    expect(await runCli(['predict', '-m', model.path, '--device', 'tpu'], io)).toBe(2);
    expect(stderr()).toMatch(/option '--device <device>' argument 'tpu' is invalid.*cpu, gpu, webgpu, cuda/s);
  });

  describeWebGpu('on WebGPU', () => {
    it.each(['webgpu', 'gpu'])(
      "--device %s runs on WebGPU: the CPU's results, device in the summary and its JSON",
      async (device) => {
        const run = await predict(device);
        expect(run.code).toBe(0);
        const results = jsonLines<{ output: number[] }>(readFileSync(run.output, 'utf8'));
        expect(results).toHaveLength(rows.length);
        results.forEach((r, i) =>
          r.output.forEach((v, k) => expect(v).toBeCloseTo(reference(model.fixture, rows[i])[k], 4)),
        );
        const summary = JSON.parse(readFileSync(run.summary, 'utf8'));
        expect(summary.device).toBe('webgpu');
        expect(run.stderr).toContain('device      webgpu');
        if (device === 'gpu') expect(run.stderr).toMatch(/device 'gpu' requested; running on webgpu \(tried cuda: /);
      },
    );
  });

  // No adapter, simulated in the spawned binary (see noAdapter.spec.ts): a clear load error, exit 2.
  (process.platform === 'linux' ? it : it.skip)(
    '--device webgpu without an adapter: exit 2 naming what is missing',
    () => {
      const child = spawnSync(
        process.execPath,
        [
          join(ROOT, 'bin', 'rxjs-inference.js'),
          'predict',
          '-m',
          model.path,
          '-i',
          join(dir, 'in.jsonl'),
          '-o',
          join(dir, 'x.jsonl'),
          '--device',
          'webgpu',
        ],
        {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, VK_DRIVER_FILES: '/nonexistent/no-driver.json' },
        },
      );
      expect(child.status).toBe(2);
      expect(child.stderr).toMatch(
        /cannot load model `.*mlp\.onnx`: Cannot load ONNX model .* on device 'webgpu': no (WebGPU adapter|Vulkan loader)/,
      );
    },
    60_000,
  );
});
