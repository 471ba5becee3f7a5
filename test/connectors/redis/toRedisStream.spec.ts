import Redis from 'ioredis';
import { lastValueFrom, map, mergeMap, Subject, take, toArray } from 'rxjs';
import { fromRedisStream, toRedisStream, type RedisDelivery } from 'rxjs-inference/redis';
import { describeRedis, RedisServer } from './redisServer';

describeRedis('toRedisStream (real redis-server)', () => {
  let server: RedisServer;
  let redis: Redis;

  beforeEach(async () => {
    server = await RedisServer.start();
    redis = new Redis({ port: server.port, host: '127.0.0.1' });
  });
  afterEach(async () => {
    redis.disconnect();
    await server.stop();
  });

  async function add(stream: string, values: readonly string[]): Promise<string[]> {
    const pipeline = redis.pipeline();
    for (const v of values) pipeline.xadd(stream, '*', 'data', v);
    return ((await pipeline.exec()) ?? []).map(([, id]) => id as string);
  }

  it('writes each result with the input id, then acknowledges it; dead letters go to their stream', async () => {
    const ids = await add('in', ['1', '2', 'bad', '4']);
    const acked = await lastValueFrom(
      fromRedisStream(server.url('in', '?group=g'), { blockMs: 100 }).pipe(
        take(4),
        map((delivery) =>
          delivery.value === 'bad'
            ? { delivery, data: JSON.stringify({ error: 'not a number' }), deadLetter: true }
            : { delivery, data: String(Number(delivery.value) * 10) },
        ),
        toRedisStream(server.url('out'), { deadLetter: server.url('dlq') }),
        toArray(),
      ),
    );
    expect(acked.map((d) => d.id).sort()).toEqual([...ids].sort());
    const out = await redis.xrange('out', '-', '+');
    expect(out.map(([, f]) => f)).toEqual([
      ['id', ids[0], 'data', '10'],
      ['id', ids[1], 'data', '20'],
      ['id', ids[3], 'data', '40'],
    ]);
    const dlq = await redis.xrange('dlq', '-', '+');
    expect(dlq.map(([, f]) => f)).toEqual([['id', ids[2], 'data', '{"error":"not a number"}']]);
    expect(((await redis.xpending('in', 'g')) as [number])[0]).toBe(0);
  });

  it('acknowledges in the same MULTI as the write when the input is on the same server (one round trip per batch)', async () => {
    await add(
      'in',
      Array.from({ length: 50 }, (_, i) => String(i)),
    );
    const before = Number(/cmdstat_exec:calls=(\d+)/.exec((await redis.info('commandstats')) as string)?.[1] ?? 0);
    const acked = await lastValueFrom(
      fromRedisStream(server.url('in', '?group=g'), { readCount: 50 }).pipe(
        take(50),
        // One synchronous burst, as runInference emits a batch's results.
        toArray(),
        mergeMap((batch) => batch.map((delivery) => ({ delivery, data: delivery.value }))),
        toRedisStream(server.url('out')),
        toArray(),
      ),
    );
    expect(acked).toHaveLength(50);
    const stats = (await redis.info('commandstats')) as string;
    expect(Number(/cmdstat_exec:calls=(\d+)/.exec(stats)?.[1]) - before).toBe(1);
    expect(/cmdstat_xack:calls=(\d+)/.exec(stats)?.[1]).toBe('1');
    expect(await redis.xlen('out')).toBe(50);
    expect(((await redis.xpending('in', 'g')) as [number])[0]).toBe(0);
  });

  it('writes to another server first, then acknowledges on the input server', async () => {
    const other = await RedisServer.start();
    const otherRedis = new Redis({ port: other.port, host: '127.0.0.1' });
    try {
      const [id] = await add('in', ['7']);
      // Ended with `stop`, not `take`: a source cut by `take` is unsubscribed and can no longer acknowledge.
      const stop = new Subject<void>();
      const acked: RedisDelivery<unknown>[] = await lastValueFrom(
        fromRedisStream(server.url('in', '?group=g'), { stop }).pipe(
          map((delivery) => {
            stop.next();
            return { delivery, data: 'seven' };
          }),
          toRedisStream(other.url('out')),
          toArray(),
        ),
      );
      expect(acked.map((d) => d.id)).toEqual([id]);
      expect((await otherRedis.xrange('out', '-', '+')).map(([, f]) => f)).toEqual([['id', id, 'data', 'seven']]);
      expect(((await redis.xpending('in', 'g')) as [number])[0]).toBe(0);
    } finally {
      otherRedis.disconnect();
      await other.stop();
    }
  });

  it('fails without acknowledging when the output key is not a stream', async () => {
    await redis.set('out', 'a string');
    await add('in', ['1']);
    await redis.xgroup('CREATE', 'in', 'g', '0');
    const error = await lastValueFrom(
      fromRedisStream(server.url('in', '?group=g')).pipe(
        take(1),
        map((delivery) => ({ delivery, data: 'x' })),
        toRedisStream(server.url('out')),
      ),
    ).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/redis:\/\/127\.0\.0\.1:\d+\/out is a string, not a stream/);
    // Not acknowledged: still pending, or not read at all.
    const pending = Number(((await redis.xpending('in', 'g')) as [number])[0]);
    const unread = ((await redis.xreadgroup('GROUP', 'g', 'other', 'STREAMS', 'in', '>')) as unknown[] | null) ?? [];
    expect(pending + unread.length).toBe(1);
  });
});
