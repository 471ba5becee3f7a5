import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { memoryIO, reference, writeMlp } from './cliFixtures';
import { addEntries, killWorkers, pending, records, startWorker, until } from './redisWorkers';
import { runCli } from '../../src/cli/runCli';
import { describeRedis, RedisServer } from '../connectors/redis/redisServer';

let dir: string;
let model: string;
let fixture: ReturnType<typeof writeMlp>['fixture'];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-redis-'));
  ({ path: model, fixture } = writeMlp(dir));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('predict with Redis streams: usage errors (no connection made)', () => {
  it.each([
    [['--input', 'redis://127.0.0.1:1/in?group=g'], /--input redis:\/\/… needs --output redis:\/\//],
    [['--input', 'redis://127.0.0.1:1/in', '--output', 'redis://127.0.0.1:1/out'], /consumer group is missing/],
    [['--input', 'in.jsonl', '--output', 'redis://127.0.0.1:1/out'], /need --input redis:\/\//],
    [
      ['--input', 'redis://127.0.0.1:1/in?group=g', '--output', 'redis://127.0.0.1:1/out', '--dead-letter', 'x.jsonl'],
      /needs --dead-letter redis:\/\//,
    ],
    [
      ['--input', 'redis://bob:hunter2@127.0.0.1:1/?group=g', '--output', 'redis://127.0.0.1:1/out'],
      /`--input` .*no stream name/,
    ],
  ])('%j', async (args, message) => {
    const { io, stderr } = memoryIO();
    expect(await runCli(['predict', '-m', model, ...args], io)).toBe(2);
    expect(stderr()).toMatch(message);
    expect(stderr()).not.toMatch(/hunter2/);
  });
});

describeRedis('predict with Redis streams (built binary, real redis-server)', () => {
  let server: RedisServer;
  let redis: Redis;
  beforeEach(async () => {
    server = await RedisServer.start();
    redis = new Redis({ port: server.port, host: '127.0.0.1' });
  });
  afterEach(async () => {
    killWorkers();
    redis.disconnect();
    await server.stop();
  });

  it('scores the stream (id and data in and out), dead-letters bad entries, and exits 0 on SIGTERM with nothing pending', async () => {
    // An ACL user: the password must never appear on standard error.
    await redis.call('ACL', 'SETUSER', 'worker', 'on', '>pw-53cr3t', '~*', '&*', '+@all');
    const good = records(300);
    const ids = await addEntries(redis, 'in', [
      ...good.slice(0, 100),
      '{"id": "m", "features": [1,',
      ...good.slice(100),
    ]);
    await addEntries(redis, 'in', [JSON.stringify({ id: 'w', features: [1, 2] })]);
    const base = `redis://worker:pw-53cr3t@127.0.0.1:${server.port}`;
    const worker = startWorker(model, [
      '--input',
      `${base}/in?group=scorers`,
      '--output',
      `${base}/out`,
      '--dead-letter',
      `${base}/dead`,
      '--id-field',
      'id',
      '--progress-interval-ms',
      '100',
    ]);
    await until('every entry written', async () => (await redis.xlen('out')) + (await redis.xlen('dead')) >= 302);
    await new Promise((r) => setTimeout(r, 250));
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });

    const out = await redis.xrange('out', '-', '+');
    expect(out).toHaveLength(300);
    const byId = new Map(out.map(([, f]) => [f[1], JSON.parse(f[3]) as { id: number; output: number[] }]));
    const goodIds = ids.filter((_, i) => i !== 100);
    expect([...byId.keys()].sort()).toEqual([...goodIds].sort());
    goodIds.forEach((entryId, i) => {
      const line = byId.get(entryId)!;
      expect(line.id).toBe(i);
      const features = (JSON.parse(good[i]) as { features: number[] }).features;
      line.output.forEach((v, k) => expect(v).toBeCloseTo(reference(fixture, features)[k], 5));
    });
    const dead = (await redis.xrange('dead', '-', '+')).map(([, f]) => ({ id: f[1], letter: JSON.parse(f[3]) }));
    expect(dead).toEqual([
      {
        id: ids[100],
        letter: expect.objectContaining({ stage: 'preprocess', reason: expect.stringMatching(/^malformed JSON/) }),
      },
      {
        id: expect.any(String),
        letter: expect.objectContaining({ id: 'w', reason: expect.stringMatching(/wrong shape/) }),
      },
    ]);
    expect(await pending(redis, 'in', 'scorers')).toBe(0);

    const stderr = worker.stderr();
    expect(stderr).toMatch(/^rxjs-inference: \d+ lines, \d+ failed, \d+ rec\/s$/m);
    expect(stderr).toContain('records     in 302, out 300, failed 2');
    expect(stderr).toContain(`output      redis://127.0.0.1:${server.port}/out`);
    expect(stderr).not.toMatch(/pw-53cr3t|worker:/);
  });

  it('in process: drains on abort and resolves 0; a signal that came while the model loaded stops it too', async () => {
    const ids = await addEntries(redis, 'in', [...records(50), 'not json']);
    const args = ['predict', '-m', model, '--input', server.url('in', '?group=g'), '--output', server.url('out'), '-q'];
    const controller = new AbortController();
    const { io, stderr } = memoryIO();
    const running = runCli(args, { ...io, signal: controller.signal });
    await until('all written', async () => (await redis.xlen('out')) + (await redis.xlen('in:dead-letter')) === 51);
    controller.abort();
    expect(await running).toBe(0);
    expect(stderr()).toBe('');
    expect(await pending(redis, 'in', 'g')).toBe(0);
    const [[, letter]] = await redis.xrange('in:dead-letter', '-', '+');
    expect(letter.slice(0, 2)).toEqual(['id', ids[50]]);

    // Aborted before it started: it reads nothing more, stops and resolves 0.
    await addEntries(redis, 'in', records(5));
    const aborted = new AbortController();
    aborted.abort();
    const second = memoryIO();
    expect(await runCli(args, { ...second.io, signal: aborted.signal })).toBe(0);
    expect(await redis.xlen('out')).toBe(50);
  });

  it('gives each process its own consumer name', async () => {
    await addEntries(redis, 'in', records(10));
    const args = ['--input', server.url('in', '?group=g'), '--output', server.url('out'), '-q'];
    const workers = [startWorker(model, args), startWorker(model, args)];
    // Each reader connection is named after its consumer (`HOST-PID-RANDOM:reader`).
    const readers = async () => new Set(((await redis.client('LIST')) as string).match(/name=\S+:reader/g) ?? []);
    await until('both workers reading', async () => (await readers()).size === 2);
    await until('all entries written', async () => (await redis.xlen('out')) === 10);
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) expect((await w.exited).code).toBe(0);
    expect(await redis.xlen('out')).toBe(10);
  });
});
