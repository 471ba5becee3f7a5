import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSmallLayersModel } from '../../scripts/fixtures/tfjs';
import { createHandler, detectRuntime } from '../../src/cli/loadModelSignature';
import { runCli } from '../../src/cli/runCli';
import { TfjsModelHandler } from '../../src/handlers/index';
import { jsonLines, memoryIO } from './cliFixtures';

// TensorFlow.js models in-process (the e2e suite runs the binary on one too). The backend is process-wide: this file
// runs on the pure-JS cpu backend, fine for a 4 → 8 → 3 model.
describe('runCli with a TensorFlow.js model', () => {
  let dir: string;
  let layers: Awaited<ReturnType<typeof writeSmallLayersModel>>;

  beforeAll(async () => {
    tf.env().set('IS_TEST', true);
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'cli-tfjs-'));
    layers = await writeSmallLayersModel(tf, join(dir, 'small'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('detects the runtime and model type from the path and model.json', async () => {
    expect(await detectRuntime(layers.modelJson)).toBe('tfjs');
    expect(await detectRuntime(join(dir, 'small'))).toBe('tfjs');
    expect(await detectRuntime(join(dir, 'x.onnx'))).toBe('onnx');
    const log = jest.fn();
    const { handler, runtime } = await createHandler({ model: join(dir, 'small'), log, verbose: false });
    expect(runtime).toBe('tfjs');
    expect(handler).toBeInstanceOf(TfjsModelHandler);
    const graphDir = join(dir, 'graph');
    mkdirSync(graphDir);
    writeFileSync(join(graphDir, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] } }));
    await expect(createHandler({ model: graphDir, device: 'gpu', log, verbose: false })).rejects.toThrow(
      '--device, --workers and --threads apply to ONNX models only.',
    );
    await expect(createHandler({ model: graphDir, threads: 2, log, verbose: false })).rejects.toThrow(
      '--device, --workers and --threads apply to ONNX models only.',
    );
  });

  it('scores JSON lines on the chosen backend and dead-letters a wrong shape', async () => {
    const rows = [
      [0.1, 0.2, 0.3, 0.4],
      [1, -1, 0.5, 0],
    ];
    const { io, stdout, stderr } = memoryIO();
    const running = runCli(['predict', '-m', layers.modelJson, '--backend', 'cpu', '--model-type', 'layers', '-v'], io);
    io.stdin.end([...rows.map((r) => JSON.stringify({ features: r })), '[[1, 2, 3, 4]]'].join('\n'));
    expect(await running).toBe(1);
    const results = jsonLines<{ line: number; output: number[] }>(stdout());
    expect(results.map((r) => r.line)).toEqual([1, 2]);
    results.forEach((r, i) => r.output.forEach((v, k) => expect(v).toBeCloseTo(layers.reference(rows[i])[k], 5)));
    expect(stderr()).toContain("TensorFlow.js 'cpu' backend");
    expect(stderr()).toMatch(
      /line 3: preprocess failed: input `\w+`: wrong shape: the model expects \[4\] per record, got \[1, 4\]/,
    );
  });

  it('exits 2 when model.json is not a model', async () => {
    const bogus = join(dir, 'bogus.json');
    writeFileSync(bogus, '{"hello": 1}');
    const { io, stderr } = memoryIO();
    expect(await runCli(['predict', '-m', bogus, '--backend', 'cpu'], io)).toBe(2);
    expect(stderr()).toMatch(/cannot load model `.*bogus\.json`/);
  });
});
