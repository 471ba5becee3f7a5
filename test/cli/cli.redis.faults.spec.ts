import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { writeMlp } from './cliFixtures';
import { addEntries, feed, idCounts, killWorkers, pending, records, startWorker, tally, until } from './redisWorkers';
import { describeRedis, RedisServer } from '../connectors/redis/redisServer';

// Fault tests of the scale-out guarantee (SPEC §10, docs/scale-out.md): real worker processes (the built binary) on a
// real redis-server over loopback, each bounded in time. Entries are fed as a live stream (slices every few ms), so
// that every worker holds entries at the moment a fault strikes.
const MAX_IN_FLIGHT = 256;
/** Small, so that a dead worker's entries come back within the test; refreshes every 500 ms keep the live ones. */
const MIN_IDLE_MS = 1500;

describeRedis('Redis workers under faults (built binary, real redis-server)', () => {
  let dir: string;
  let model: string;
  let server: RedisServer;
  let redis: Redis;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-redis-faults-'));
    ({ path: model } = writeMlp(dir));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    server = await RedisServer.start();
    redis = new Redis({ port: server.port, host: '127.0.0.1' });
  });
  afterEach(async () => {
    killWorkers();
    redis.disconnect();
    await server.stop();
  });

  const workerArgs = (consumer: string, query = `&minIdleMs=${MIN_IDLE_MS}`) => [
    '--input',
    server.url('in', `?group=g&consumer=${consumer}${query}`),
    '--output',
    server.url('out'),
    '--dead-letter',
    server.url('dead'),
    '--max-in-flight',
    String(MAX_IN_FLIGHT),
    '-q',
  ];

  /** Waits until every id is written and nothing is pending, then stops the workers with SIGTERM (exit 0). */
  async function finish(ids: readonly string[], workers: ReturnType<typeof startWorker>[], ms = 20000) {
    await until(
      `all ${ids.length} entries written and acknowledged`,
      async () =>
        (await tally(redis, ids, ['out', 'dead'])).missing.length === 0 && (await pending(redis, 'in', 'g')) === 0,
      ms,
    );
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) expect(await w.exited).toEqual({ code: 0, signal: null });
    return tally(redis, ids, ['out', 'dead']);
  }

  it('3 workers, 20,000 entries, one SIGKILLed mid-run: nothing missing, nothing pending, duplicates ≤ maxInFlight', async () => {
    const workers = ['w1', 'w2', 'w3'].map((name) => startWorker(model, workerArgs(name)));
    const feeding = feed(redis, 'in', records(20000), 500, 40);
    await until('a third of the stream written', async () => (await redis.xlen('out')) >= 6000);
    // Kill w1 while it holds entries (read, not acknowledged): they are what SIGKILL puts at risk. A fast worker holds
    // none at some instants, so wait for one at which it does rather than trusting a single snapshot.
    const heldByW1 = async () => {
      const summary = (await redis.xpending('in', 'g')) as [number, string, string, [string, string][] | null];
      return Number((summary[3] ?? []).find(([name]) => name === 'w1')?.[1] ?? 0);
    };
    await until('w1 holding entries', async () => (await heldByW1()) > 0);
    workers[0].child.kill('SIGKILL');
    expect(await workers[0].exited).toEqual({ code: null, signal: 'SIGKILL' });
    const ids = await feeding;
    const { missing, duplicates, distinct } = await finish(ids, workers.slice(1));
    expect(missing).toEqual([]);
    expect(distinct).toBe(20000);
    expect(duplicates).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(await pending(redis, 'in', 'g')).toBe(0);
  }, 60000);

  it('a kill between write and acknowledge: that entry is written twice, nothing is missing', async () => {
    // The output lives on a second server, so the write (there) and the ack (here) are two round trips; the input
    // server's writes are paused right after the entry is read, so the worker writes its result, then waits on XACK.
    const other = await RedisServer.start();
    const otherRedis = new Redis({ port: other.port, host: '127.0.0.1' });
    try {
      await redis.xgroup('CREATE', 'in', 'g', '0', 'MKSTREAM');
      const args = (name: string) => [
        '--input',
        server.url('in', `?group=g&consumer=${name}&minIdleMs=${MIN_IDLE_MS}`),
        '--output',
        other.url('out'),
        '--dead-letter',
        other.url('dead'),
        '-q',
      ];
      const first = startWorker(model, args('w1'));
      // w1's XREADGROUP must be blocked on the empty stream (flag b) before the entry comes.
      await until('w1 blocked in XREADGROUP', async () =>
        ((await redis.client('LIST')) as string).split('\n').some((l) => /name=w1:reader .*flags=b/.test(l)),
      );
      // One pipeline: the XADD wakes w1's blocked XREADGROUP, then CLIENT PAUSE holds every later write (its XACK).
      const [[, id]] = (await redis
        .pipeline()
        .xadd('in', '*', 'data', records(1)[0])
        .call('CLIENT', 'PAUSE', 10000, 'WRITE')
        .exec()) as [[null, string]];
      await until('w1 wrote its result', async () => (await otherRedis.xlen('out')) === 1);
      first.child.kill('SIGKILL');
      await first.exited;
      await redis.call('CLIENT', 'UNPAUSE');
      expect(await pending(redis, 'in', 'g')).toBe(1);
      const rest = await addEntries(redis, 'in', records(20).slice(1));

      const second = startWorker(model, args('w2'));
      await until(
        'w2 wrote everything',
        async () => (await otherRedis.xlen('out')) === 21 && (await pending(redis, 'in', 'g')) === 0,
      );
      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
      const counts = await idCounts(otherRedis, 'out');
      expect(counts.get(id)).toBe(2);
      expect(rest.map((r) => counts.get(r))).toEqual(rest.map(() => 1));
    } finally {
      otherRedis.disconnect();
      await other.stop();
    }
  }, 30000);

  it('a poison entry goes to the dead-letter stream after maxDeliveries, without reaching the model', async () => {
    const [poison, ...good] = await addEntries(redis, 'in', records(11));
    // Two workers died holding it: delivered twice already.
    await redis.xgroup('CREATE', 'in', 'g', '0');
    await redis.xreadgroup('GROUP', 'g', 'dead-1', 'COUNT', 1, 'STREAMS', 'in', '>');
    await redis.xclaim('in', 'g', 'dead-2', 0, poison);
    const worker = startWorker(model, workerArgs('w1', '&minIdleMs=300&maxDeliveries=2'));
    const ids = [poison, ...good];
    await until('all written', async () => (await tally(redis, ids, ['out', 'dead'])).missing.length === 0);
    await until('nothing pending', async () => (await pending(redis, 'in', 'g')) === 0);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    const dead = await redis.xrange('dead', '-', '+');
    expect(dead.map(([, f]) => f[1])).toEqual([poison]);
    expect(JSON.parse(dead[0][1][3])).toMatchObject({ stage: 'delivery', error: 'MaxDeliveriesExceeded', line: null });
    expect((await idCounts(redis, 'out')).has(poison)).toBe(false);
    expect(worker.stderr()).toMatch(new RegExp(`entry ${poison} delivered 3 times: sent to the dead-letter stream`));
  }, 30000);

  it('a graceful SIGTERM mid-run: the worker finishes what it holds and exits 0, with zero duplicates', async () => {
    const workers = ['w1', 'w2'].map((name) => startWorker(model, workerArgs(name)));
    const feeding = feed(redis, 'in', records(6000), 300, 40);
    await until('a third written', async () => (await redis.xlen('out')) >= 2000);
    workers[0].child.kill('SIGTERM');
    expect(await workers[0].exited).toEqual({ code: 0, signal: null });
    const ids = await feeding;
    const { missing, duplicates } = await finish(ids, workers.slice(1));
    expect(missing).toEqual([]);
    expect(duplicates).toBe(0);
  }, 40000);

  it('Redis killed and restarted mid-run (append-only file): workers reconnect, nothing is lost', async () => {
    const workers = ['w1', 'w2'].map((name) => startWorker(model, workerArgs(name)));
    const values = records(6000);
    const before = await feed(redis, 'in', values.slice(0, 3000), 300, 40);
    await until('some written', async () => (await redis.xlen('out')) >= 1000);
    await server.kill();
    await new Promise((r) => setTimeout(r, 500));
    await server.restart();
    const after = await feed(redis, 'in', values.slice(3000), 300, 40);
    const { missing } = await finish([...before, ...after], workers, 30000);
    expect(missing).toEqual([]);
    expect(await pending(redis, 'in', 'g')).toBe(0);
    expect(workers.map((w) => w.stderr()).join('')).toMatch(/redis connection: .*\(reconnecting\)/);
  }, 60000);
});
