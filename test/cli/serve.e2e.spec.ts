import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { featureRows, reference, writeMlp } from './cliFixtures';

// End-to-end: spawns the built binary (`node bin/rxjs-inference.js serve`, dist/ built by test/globalSetup.js) on a
// random port of 127.0.0.1 and talks to it over real HTTP, as a user's client would.
const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'rxjs-inference.js');

interface Served {
  readonly child: ChildProcess;
  readonly base: string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

function serve(args: readonly string[]): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      const { listening } = JSON.parse(line) as { listening: string };
      resolve({ child, base: listening, stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening: ${err}`)));
  });
}

describe('rxjs-inference serve (the built binary)', () => {
  let dir: string;
  let model: ReturnType<typeof writeMlp>;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-serve-'));
    model = writeMlp(dir, 'classifier');
  });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('listens on 127.0.0.1 by default, is ready, and answers infer with the model outputs', async () => {
    const served = await serve(['--model', model.path]);
    children.push(served.child);
    expect(served.base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${served.base}/v2/health/ready`)).status).toBe(200);
    const rows = featureRows(3);
    const response = await fetch(`${served.base}/v2/models/classifier/infer`, {
      method: 'POST',
      body: JSON.stringify({ id: 'x', inputs: [{ name: 'input', shape: [3, 8], datatype: 'FP32', data: rows }] }),
    });
    const json = (await response.json()) as { id: string; outputs: { shape: number[]; data: number[] }[] };
    expect(response.status).toBe(200);
    expect(json.id).toBe('x');
    expect(json.outputs[0].shape).toEqual([3, 4]);
    const expected = rows.flatMap((r) => reference(model.fixture, r));
    json.outputs[0].data.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
  });

  it('SIGTERM stops accepting, answers the request in flight, then exits 0', async () => {
    const served = await serve(['--model', model.path, '--name', 'm']);
    children.push(served.child);
    const url = new URL(served.base);
    const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', data: featureRows(1) }] });
    // A client whose request is under way (headers sent, body not yet) when the server is told to stop.
    const answer = new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(`POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
        socket.write(body.slice(0, 10));
        setTimeout(() => {
          served.child.kill('SIGTERM');
          setTimeout(() => socket.write(body.slice(10)), 200);
        }, 100);
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
    });
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(text).toMatch(/"outputs":\[\{"name":"output"/);
    expect(await served.exited).toBe(0);
    expect(served.stderr()).toMatch(/stopping: no new connections/);
    await expect(fetch(`${served.base}/v2/health/live`)).rejects.toThrow();
  });

  it('exits 2 with a clear message when the model cannot load or the port is taken', async () => {
    const missing = spawn(process.execPath, [BIN, 'serve', '--model', join(dir, 'nope.onnx'), '--port', '0']);
    let err = '';
    missing.stderr.on('data', (c: Buffer) => (err += c.toString()));
    expect(await new Promise((resolve) => missing.once('exit', resolve))).toBe(2);
    expect(err).toMatch(/cannot load model .*nope\.onnx/);

    const first = await serve(['--model', model.path]);
    children.push(first.child);
    const port = new URL(first.base).port;
    const second = spawn(process.execPath, [BIN, 'serve', '--model', model.path, '--port', port]);
    let err2 = '';
    second.stderr.on('data', (c: Buffer) => (err2 += c.toString()));
    expect(await new Promise((resolve) => second.once('exit', resolve))).toBe(2);
    expect(err2).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  });
});
