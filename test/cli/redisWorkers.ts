import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { featureRows } from './cliFixtures';

// Helpers of the Redis worker tests: real `rxjs-inference predict` processes (the built binary) on real Redis.
const BIN = join(__dirname, '..', '..', 'bin', 'rxjs-inference.js');

/** One worker process. */
export interface Worker {
  readonly child: ChildProcess;
  /** Standard error so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal) once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Spawns `rxjs-inference predict --model MODEL ...args`. */
export function startWorker(model: string, args: readonly string[]): Worker {
  const child = spawn(process.execPath, [BIN, 'predict', '--model', model, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, exited };
}

/** Kills (SIGKILL) every worker still running: a failed test leaves no process behind. */
export function killWorkers(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Polls `check` every 50 ms until it holds; fails after `ms` with `what`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The records `{ id, features }` the tests put in the input stream. */
export function records(count: number): string[] {
  return featureRows(count, 11).map((features, i) => JSON.stringify({ id: i, features }));
}

/** Adds `values` to `stream` (field `data`), in pipelines of 1000; returns the entry ids. */
export async function addEntries(redis: Redis, stream: string, values: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < values.length; i += 1000) {
    const pipeline = redis.pipeline();
    for (const v of values.slice(i, i + 1000)) pipeline.xadd(stream, '*', 'data', v);
    for (const [error, id] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      ids.push(id as string);
    }
  }
  return ids;
}

/** Adds `values` in slices of `slice` every `everyMs` (a live stream rather than a backlog). */
export async function feed(redis: Redis, stream: string, values: readonly string[], slice: number, everyMs: number) {
  const ids: string[] = [];
  for (let i = 0; i < values.length; i += slice) {
    ids.push(...(await addEntries(redis, stream, values.slice(i, i + slice))));
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return ids;
}

/** How many times each input id appears (field `id`) in `stream`. */
export async function idCounts(redis: Redis, stream: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [, fields] of await redis.xrange(stream, '-', '+')) {
    const id = fields[fields.indexOf('id') + 1];
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Entries pending in the group (read, not acknowledged). */
export async function pending(redis: Redis, stream: string, group: string): Promise<number> {
  return Number(((await redis.xpending(stream, group)) as [number])[0]);
}

/** Missing ids and the number of duplicate writes of `ids` across the output and dead-letter streams. */
export async function tally(redis: Redis, ids: readonly string[], streams: readonly string[]) {
  const counts = new Map<string, number>();
  for (const stream of streams) {
    for (const [id, n] of await idCounts(redis, stream)) counts.set(id, (counts.get(id) ?? 0) + n);
  }
  const missing = ids.filter((id) => !counts.has(id));
  const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
  return { missing, duplicates, distinct: counts.size };
}
