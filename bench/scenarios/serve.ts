import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { mlp } from '../../scripts/fixtures/onnx';
import type { BenchRow } from '../result';
import { fmt, median, percentile } from '../stats';

const ROOT = join(__dirname, '..', '..');
const DIMS = [512, 1024, 1024, 10];
const CONNECTIONS = [1, 64, 256] as const;

/** One load run: requests/s and latency percentiles (ms). */
interface LoadFigures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/** Starts a server process that prints `{"listening": URL}` on its first line of standard output. */
function startServer(command: string, args: readonly string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      lines.close();
      resolve({ url: (JSON.parse(line) as { listening: string }).listening, child });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before listening`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * One client sending requests back to back on one keep-alive connection, timing each with `performance.now()`
 * (autocannon reports whole milliseconds, too coarse for sub-millisecond latencies at one connection).
 */
async function sequential(url: string, body: string, seconds: number): Promise<LoadFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  try {
    while (performance.now() < end) {
      const start = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      latencies.push(performance.now() - start);
      if (status !== 200) errors++;
    }
  } finally {
    agent.destroy();
  }
  return {
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

async function load(url: string, body: string, connections: number, seconds: number): Promise<LoadFigures> {
  if (connections === 1) return sequential(url, body, seconds);
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: seconds,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * HTTP: `rxjs-inference serve` against two hand-written node:http servers on the same ONNX MLP 512→1024→1024→10:
 * (a) one `session.run` per request, (b) its own micro-batching. Each server runs in its own process; autocannon
 * (in this process) posts Open Inference Protocol requests of one example at 1, 64 and 256 connections, the three
 * servers interleaved per concurrency so that a change of machine load hits them alike; the figure is the median of
 * `reps` rounds. At one connection a sequential client of our own times each request (autocannon counts whole ms).
 */
export async function serveScenario({
  seconds,
  reps,
  log,
}: {
  seconds: number;
  reps: number;
  log: (line: string) => void;
}): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'rxjs-inference-bench-serve-'));
  const servers: Record<string, { url: string; child: ChildProcess }> = {};
  try {
    const fixture = mlp(DIMS);
    const model = join(dir, 'mlp.onnx');
    await writeFile(model, fixture.bytes);
    const example = Array.from(fixture.sample(1, 3)[0].input.data as Float32Array, (v) => Number(v.toFixed(6)));
    const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, DIMS[0]], datatype: 'FP32', data: example }] });
    const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const node = process.execPath;
    servers.serve = await startServer(node, [
      join(ROOT, 'bin', 'rxjs-inference.js'),
      'serve',
      '--model',
      model,
      '--port',
      '0',
      '--quiet',
      '--max-queued-requests',
      '100000',
    ]);
    servers.perRequest = await startServer(node, [tsx, join(ROOT, 'bench', 'servers', 'perRequestServer.ts'), model]);
    servers.microBatch = await startServer(node, [tsx, join(ROOT, 'bench', 'servers', 'microBatchServer.ts'), model]);
    const path = { serve: '/v2/models/mlp/infer', perRequest: '/infer', microBatch: '/infer' };
    const names = ['serve', 'perRequest', 'microBatch'] as const;
    for (const name of names) await load(servers[name].url + path[name], body, 16, 1); // warm-up
    const runs: Record<string, Record<number, LoadFigures[]>> = { serve: {}, perRequest: {}, microBatch: {} };
    for (let rep = 0; rep < reps; rep++) {
      for (const connections of CONNECTIONS) {
        // Alternate the order, so that no server always runs right after another.
        const order = (rep + connections) % 2 === 0 ? [...names].reverse() : names;
        for (const name of order) {
          const f = await load(servers[name].url + path[name], body, connections, seconds);
          (runs[name][connections] ??= []).push(f);
          log(
            `  ${name.padEnd(10)} ${String(connections).padStart(3)} connections: ${fmt(f.rps)} req/s, ` +
              `p50 ${fmt(f.p50, 2)} ms, p99 ${fmt(f.p99, 2)} ms${f.errors > 0 ? `, ${f.errors} errors/non-2xx` : ''}`,
          );
        }
      }
    }
    // Per server and concurrency: the median of the rounds, figure by figure.
    const figures: Record<string, Record<number, LoadFigures>> = { serve: {}, perRequest: {}, microBatch: {} };
    for (const name of names) {
      for (const c of CONNECTIONS) {
        const all = runs[name][c];
        figures[name][c] = {
          rps: median(all.map((f) => f.rps)),
          p50: median(all.map((f) => f.p50)),
          p99: median(all.map((f) => f.p99)),
          errors: all.reduce((n, f) => n + f.errors, 0),
        };
      }
    }
    const s = figures.serve;
    const a = figures.perRequest;
    const b = figures.microBatch;
    const shape = (f: LoadFigures) => `${fmt(f.rps)} req/s, p50 ${fmt(f.p50, 2)} ms, p99 ${fmt(f.p99, 2)} ms`;
    const note = (c: number) =>
      `median of ${reps} × ${seconds} s (${c === 1 ? 'one sequential client' : `autocannon, ${c} connections`}), ` +
      `1 example/request; serve ${shape(s[c])}; (a) ${shape(a[c])}; (b) ${shape(b[c])}`;
    const rows: BenchRow[] = [
      {
        id: 'HTTP',
        name: 'serve vs per-request session.run server (a), req/s at 256 connections',
        value: s[256].rps,
        baseline: a[256].rps,
        unit: 'req/s',
        ratio: s[256].rps / a[256].rps,
        target: '≥ 3×',
        pass: s[256].rps / a[256].rps >= 3,
        note: note(256),
      },
      ...CONNECTIONS.map((c): BenchRow => ({
        id: 'HTTP',
        name: `serve vs micro-batching server (b), req/s at ${c} connection${c === 1 ? '' : 's'}`,
        value: s[c].rps,
        baseline: b[c].rps,
        unit: 'req/s',
        ratio: s[c].rps / b[c].rps,
        target: '≥ 1.0×',
        pass: s[c].rps / b[c].rps >= 1,
        note: note(c),
      })),
      {
        id: 'HTTP',
        name: 'serve vs (a), p50 latency at 1 connection',
        value: s[1].p50,
        baseline: a[1].p50,
        unit: 'ms',
        ratio: s[1].p50 / a[1].p50,
        target: '≤ 1.2×',
        pass: s[1].p50 / a[1].p50 <= 1.2,
        note: note(1),
      },
    ];
    return rows;
  } finally {
    await Promise.all(Object.values(servers).map(({ child }) => stop(child)));
    await rm(dir, { recursive: true, force: true });
  }
}
