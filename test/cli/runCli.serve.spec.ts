import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSmallLayersModel } from '../../scripts/fixtures/tfjs';
import { defaultModelName } from '../../src/cli/serve';
import { runCli } from '../../src/cli/runCli';
import { memoryIO, writeMlp } from './cliFixtures';

/** Servers still running: stopped after each test, also when an assertion failed before the test stopped it. */
const servers: { readonly stop: AbortController; readonly exit: Promise<number> }[] = [];

/** Runs `serve` in process until `stop` is aborted; resolves the base URL once it listens. */
function serveInProcess(args: string[]) {
  const { io, stdout, stderr } = memoryIO();
  const stop = new AbortController();
  const exit = runCli(['serve', '--port', '0', ...args], { ...io, signal: stop.signal });
  servers.push({ stop, exit });
  const base = new Promise<string>((resolve, reject) => {
    io.stdout.on('data', () => {
      const line = stdout().split('\n')[0];
      if (line.endsWith('}')) resolve((JSON.parse(line) as { listening: string }).listening);
    });
    void exit.then((code) => reject(new Error(`serve exited with ${code}: ${stderr()}`)));
  });
  return { base, stop, exit, stderr };
}

describe('rxjs-inference serve in process', () => {
  let dir: string;
  beforeAll(async () => {
    tf.env().set('IS_TEST', true);
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'cli-serve-inproc-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const { stop, exit } of servers.splice(0)) {
      stop.abort();
      await exit.catch(() => undefined);
    }
  });

  it('serves a TF.js layers model: metadata from its signature, outputs from its maths', async () => {
    const layers = await writeSmallLayersModel(tf, join(dir, 'small'));
    const { base, stop, exit, stderr } = serveInProcess(['--model', layers.modelJson, '--backend', 'cpu']);
    const url = await base;
    const metadata = (await (await fetch(`${url}/v2/models/small`)).json()) as {
      platform: string;
      inputs: { datatype: string; shape: number[] }[];
      outputs: { datatype: string; shape: number[] }[];
    };
    expect(metadata.platform).toBe('tensorflowjs_layersmodel');
    expect(metadata.inputs).toEqual([expect.objectContaining({ datatype: 'FP32', shape: [-1, 4] })]);
    expect(metadata.outputs).toEqual([expect.objectContaining({ datatype: 'FP32', shape: [-1, 3] })]);
    const rows = [
      [0.1, 0.2, 0.3, 0.4],
      [1, -1, 0.5, 0],
    ];
    const inputName = (metadata.inputs[0] as unknown as { name: string }).name;
    const response = await fetch(`${url}/v2/models/small/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: inputName, shape: [2, 4], datatype: 'FP32', data: rows }] }),
    });
    const json = (await response.json()) as { outputs: { shape: number[]; data: number[] }[] };
    expect(response.status).toBe(200);
    expect(json.outputs[0].shape).toEqual([2, 3]);
    const expected = rows.flatMap((r) => Array.from(layers.reference(r)));
    json.outputs[0].data.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    stop.abort();
    expect(await exit).toBe(0);
    expect(stderr()).toMatch(/serving model `small` \(tensorflowjs_layersmodel\)/);
  });

  it('--name names the model in the routes; --watch serves a newer model file once it appears', async () => {
    const first = writeMlp(dir, 'v1', 1);
    const { base, stop, exit } = serveInProcess([
      '--model',
      first.path,
      '--name',
      'clf',
      '--watch',
      join(dir, 'v*.onnx'),
      '--watch-interval-ms',
      '50',
    ]);
    const url = await base;
    const infer = async () => {
      const response = await fetch(`${url}/v2/models/clf/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', data: [1, 1, 1, 1, 1, 1, 1, 1] }],
        }),
      });
      return ((await response.json()) as { outputs: { data: number[] }[] }).outputs[0].data;
    };
    const before = await infer();
    const second = writeMlp(dir, 'v2', 2);
    const expected = Array.from(
      second.fixture.forward({ input: { type: 'float32', data: new Float32Array(8).fill(1), dims: [8] } }).output
        .data as Float32Array,
    );
    let after = before;
    for (let i = 0; i < 400 && Math.abs(after[0] - expected[0]) > 1e-5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await infer();
    }
    after.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
    expect(before[0]).not.toBeCloseTo(expected[0], 5);
    stop.abort();
    expect(await exit).toBe(0);
  });

  it('names a model after its file (model.json: after its directory)', () => {
    expect(defaultModelName('/models/demo-mlp.onnx')).toBe('demo-mlp');
    expect(defaultModelName('/models/mnist/model.json')).toBe('mnist');
    expect(defaultModelName('weights.json')).toBe('weights');
  });

  it('rejects contradictory options with exit 2', async () => {
    const model = writeMlp(dir, 'opts');
    const { io, stderr } = memoryIO();
    expect(
      await runCli(
        ['serve', '--model', model.path, '--port', '0', '--min-batch-size', '9', '--max-batch-size', '2'],
        io,
      ),
    ).toBe(2);
    expect(stderr()).toMatch(/invalid options: .*minBatchSize/);
  });
});
