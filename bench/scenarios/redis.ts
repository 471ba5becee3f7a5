import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { mlp, prng } from '../../scripts/fixtures/onnx';
import type { RunSummary } from '../../src/cli/summarize';
import { hasRedisServer, RedisServer } from '../../test/connectors/redis/redisServer';
import type { BenchRow } from '../result';
import { fmt, median } from '../stats';
import { row } from './onnx';

const FEATURES = 16;
const ROOT = join(__dirname, '..', '..');
const BIN = 'bin/rxjs-inference.js';

/** `{"id","features":[16 numbers]}` records, as the main job's. */
function records(count: number): string[] {
  const random = prng(2024);
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      id: `rec-${i + 1}`,
      features: Array.from({ length: FEATURES }, () => Number((random() * 2 - 1).toFixed(4))),
    }),
  );
}

/** The file-based command: records/s from its summary (first line read to last record written: no start-up). */
function fileRun(model: string, input: string, output: string, summary: string): Promise<number> {
  const args = [
    BIN,
    'predict',
    '--model',
    model,
    '--input',
    input,
    '--output',
    output,
    '-q',
    '--summary-json',
    summary,
  ];
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { cwd: ROOT }, (error) =>
      error ? reject(error) : resolve((JSON.parse(readFileSync(summary, 'utf8')) as RunSummary).recordsPerSecond),
    ),
  );
}

/**
 * `workers` worker processes, started and waiting on an empty stream; then `values` are added (pipelines of 5000)
 * while they work: records/s from the first entry added until every output is in the output stream (no start-up,
 * as for the file). The workers are stopped with SIGTERM afterwards.
 */
async function redisRun(server: RedisServer, redis: Redis, model: string, values: readonly string[], workers: number) {
  await redis.del('in', 'out', 'in:dead-letter');
  const group = `bench-${workers}-${Date.now()}`;
  const args = [
    'predict',
    '--model',
    model,
    '--input',
    server.url('in', `?group=${group}`),
    '--output',
    server.url('out'),
    '-q',
  ];
  const children = Array.from({ length: workers }, () =>
    spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: 'ignore' }),
  );
  try {
    const readers = async () => ((await redis.client('LIST')) as string).match(/name=\S+:reader/g)?.length ?? 0;
    while ((await readers()) < workers) await new Promise((r) => setTimeout(r, 20));
    const start = performance.now();
    for (let i = 0; i < values.length; i += 5000) {
      const pipeline = redis.pipeline();
      for (const v of values.slice(i, i + 5000)) pipeline.xadd('in', '*', 'data', v);
      await pipeline.exec();
    }
    while ((await redis.xlen('out')) < values.length) await new Promise((r) => setTimeout(r, 10));
    return (values.length / (performance.now() - start)) * 1000;
  } finally {
    await Promise.all(children.map((c) => new Promise((resolve) => (c.once('exit', resolve), c.kill('SIGTERM')))));
  }
}

/**
 * Scale-out: entries/s of 1, 2 and 3 `rxjs-inference predict` workers sharing one Redis stream (consumer group,
 * output stream, acks), against the file-based command on the same records; whole processes, interleaved.
 */
export async function redisScenario({
  records: count,
  reps,
  log,
}: {
  records: number;
  reps: number;
  log: (line: string) => void;
}): Promise<BenchRow[]> {
  if (!hasRedisServer) {
    log('  skipped: redis-server is not on PATH (apt-get install redis-server)');
    return [];
  }
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-inference-bench-redis-'));
  const server = await RedisServer.start();
  const redis = new Redis({ port: server.port, host: '127.0.0.1' });
  try {
    const model = join(dir, 'demo-mlp.onnx');
    writeFileSync(model, mlp([FEATURES, 32, 4], { name: 'demo-mlp' }).bytes);
    const values = records(count);
    const input = join(dir, 'records.jsonl');
    writeFileSync(input, values.join('\n') + '\n');
    const rates: Record<string, number[]> = { file: [], '1': [], '2': [], '3': [] };
    for (let rep = 0; rep < reps; rep++) {
      rates.file.push(await fileRun(model, input, join(dir, 'out.jsonl'), join(dir, 'summary.json')));
      for (const k of [1, 2, 3]) rates[k].push(await redisRun(server, redis, model, values, k));
    }
    const file = median(rates.file);
    log(
      `  file ${fmt(file)}/s; Redis workers ${[1, 2, 3].map((k) => `×${k} ${fmt(median(rates[k]))}/s`).join(', ')} ` +
        `(${fmt(count)} records)`,
    );
    return [1, 2, 3].map((k) =>
      row(
        'R',
        `scale-out: ${k} Redis worker${k > 1 ? 's' : ''} vs the file-based command, ${fmt(count)} records`,
        median(rates[k]),
        file,
        undefined,
        {
          unit: 'records/s',
          note:
            `whole processes (start-up and model load included), median of ${reps}; MLP 16→32→4; entries in one stream, ` +
            `consumer group, results to an output stream with the entry id, acked in the same MULTI; appendonly yes ` +
            `(appendfsync everysec); redis-server and the workers share this machine's cores`,
        },
      ),
    );
  } finally {
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
