import Redis from 'ioredis';
import { firstValueFrom, lastValueFrom, Subject, take, toArray, type Subscription } from 'rxjs';
import { fromRedisStream, parseRedisStreamUrl, type RedisDelivery } from 'rxjs-inference/redis';
import { describeRedis, RedisServer } from './redisServer';

/** Polls `check` until it holds (or fails after `ms`). */
async function until(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('parseRedisStreamUrl', () => {
  it('reads host, port, credentials, TLS, db and stream; the display form has no credentials', () => {
    const a = parseRedisStreamUrl('rediss://alice:s%40cret@example.com:6390/jobs%3Ain?group=g&db=2');
    expect(a).toMatchObject({
      host: 'example.com',
      port: 6390,
      username: 'alice',
      password: 's@cret',
      tls: true,
      db: 2,
      stream: 'jobs:in',
      display: 'rediss://example.com:6390/jobs:in',
    });
    expect(a.params.get('group')).toBe('g');
    expect(parseRedisStreamUrl('redis://h/s')).toMatchObject({ port: 6379, tls: false, db: 0, username: undefined });
  });

  it('rejects what is not a stream URL, without showing the credentials', () => {
    expect(() => parseRedisStreamUrl('redis://bob:hunter2@host:1/')).toThrow(/no stream name/);
    expect(() => parseRedisStreamUrl('redis://bob:hunter2@host:1/')).not.toThrow(/hunter2/);
    expect(() => parseRedisStreamUrl('http://host/s')).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisStreamUrl('redis://host/s?db=x')).toThrow(/db `x`/);
  });
});

describe('fromRedisStream: config', () => {
  it('validates before connecting', () => {
    expect(() => fromRedisStream('redis://127.0.0.1:1/s')).toThrow(TypeError);
    expect(() => fromRedisStream('redis://127.0.0.1:1/s')).toThrow(/`group` \(or \?group= in the URL\)/);
    expect(() => fromRedisStream('redis://127.0.0.1:1/s?group=g', { maxInFlight: 0 })).toThrow(RangeError);
    expect(() => fromRedisStream('redis://127.0.0.1:1/s?group=g&minIdleMs=abc')).toThrow(/minIdleMs/);
    expect(() => fromRedisStream('redis://127.0.0.1:1/s?group=g', { minIdleMs: 100, refreshIntervalMs: 100 })).toThrow(
      /refreshIntervalMs/,
    );
  });
});

describeRedis('fromRedisStream (real redis-server)', () => {
  let server: RedisServer;
  let redis: Redis;
  let subscription: Subscription | undefined;

  beforeEach(async () => {
    server = await RedisServer.start();
    redis = new Redis({ port: server.port, host: '127.0.0.1' });
  });
  afterEach(async () => {
    subscription?.unsubscribe();
    subscription = undefined;
    redis.disconnect();
    await server.stop();
  });

  async function add(stream: string, values: readonly string[]): Promise<string[]> {
    const pipeline = redis.pipeline();
    for (const v of values) pipeline.xadd(stream, '*', 'data', v);
    return ((await pipeline.exec()) ?? []).map(([, id]) => id as string);
  }

  const pendingCount = async (stream: string, group: string): Promise<number> =>
    Number(((await redis.xpending(stream, group)) as [number])[0]);

  it('emits one delivery per entry (id, value, deliveries 1); ack removes it from the pending list', async () => {
    const ids = await add('in', ['{"a":1}', '{"a":2}', '{"a":3}']);
    const deliveries = await firstValueFrom(
      fromRedisStream(server.url('in', '?group=g'), { consumer: 'c1' }).pipe(take(3), toArray()),
    );
    expect(deliveries.map((d) => [d.id, d.value, d.deliveries, d.stream])).toEqual([
      [ids[0], '{"a":1}', 1, 'in'],
      [ids[1], '{"a":2}', 1, 'in'],
      [ids[2], '{"a":3}', 1, 'in'],
    ]);
    // take(3) unsubscribed: the entries stay pending with c1 (another consumer would reclaim them).
    expect(await pendingCount('in', 'g')).toBe(3);
  });

  it('reads only while fewer than maxInFlight are unacknowledged (backpressure), and acks in one round trip', async () => {
    await add(
      'in',
      Array.from({ length: 10 }, (_, i) => String(i)),
    );
    const got: RedisDelivery[] = [];
    subscription = fromRedisStream(server.url('in', '?group=g'), { maxInFlight: 3, blockMs: 100 }).subscribe((d) =>
      got.push(d),
    );
    await until(() => got.length === 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.length).toBe(3);
    await Promise.all(got.slice(0, 3).map((d) => d.ack()));
    await until(() => got.length === 6);
    await new Promise((r) => setTimeout(r, 200));
    expect(got.length).toBe(6);
    expect(await pendingCount('in', 'g')).toBe(3);
    await Promise.all(got.map((d) => d.ack()));
    await until(() => got.length === 9);
  });

  it('reclaims entries idle past minIdleMs from a dead consumer, with their delivery count', async () => {
    const ids = await add('in', ['x', 'y']);
    await redis.xgroup('CREATE', 'in', 'g', '0');
    await redis.xreadgroup('GROUP', 'g', 'dead', 'COUNT', 10, 'STREAMS', 'in', '>');
    const got: RedisDelivery[] = [];
    subscription = fromRedisStream(server.url('in', '?group=g'), {
      consumer: 'live',
      minIdleMs: 300,
      claimIntervalMs: 50,
      blockMs: 100,
    }).subscribe((d) => got.push(d));
    await until(() => got.length === 2);
    expect(got.map((d) => [d.id, d.value, d.deliveries])).toEqual([
      [ids[0], 'x', 2],
      [ids[1], 'y', 2],
    ]);
    await Promise.all(got.map((d) => d.ack()));
    expect(await pendingCount('in', 'g')).toBe(0);
  });

  it('keeps the entries it holds fresh, so that a live worker is never robbed of them', async () => {
    await add('in', ['held']);
    const got: RedisDelivery[] = [];
    subscription = fromRedisStream(server.url('in', '?group=g'), {
      consumer: 'live',
      minIdleMs: 1000,
      refreshIntervalMs: 100,
      blockMs: 100,
    }).subscribe((d) => got.push(d));
    await until(() => got.length === 1);
    // Held (not acknowledged) for twice minIdleMs: another consumer's XAUTOCLAIM must find nothing idle.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const [, claimed] = (await redis.xautoclaim('in', 'g', 'thief', 1000, '0')) as [string, unknown[]];
      expect(claimed).toEqual([]);
    }
    await got[0].ack();
  });

  it('sends an entry delivered more than maxDeliveries times to the dead-letter stream without emitting it', async () => {
    const [poison] = await add('in', ['poison']);
    const [good] = await add('in', ['good']);
    await redis.xgroup('CREATE', 'in', 'g', '0');
    await redis.xreadgroup('GROUP', 'g', 'w1', 'COUNT', 1, 'STREAMS', 'in', '>');
    await redis.xclaim('in', 'g', 'w2', 0, poison); // delivered twice now
    const poisoned: string[] = [];
    const got: RedisDelivery[] = [];
    subscription = fromRedisStream(server.url('in', '?group=g'), {
      consumer: 'w3',
      minIdleMs: 100,
      claimIntervalMs: 30,
      blockMs: 100,
      maxDeliveries: 2,
      onPoison: (entry) => poisoned.push(entry.id),
    }).subscribe((d) => got.push(d));
    await until(() => poisoned.length === 1 && got.length === 1);
    expect(got.map((d) => d.id)).toEqual([good]);
    const letters = await redis.xrange('in:dead-letter', '-', '+');
    expect(letters).toHaveLength(1);
    const fields = letters[0][1];
    expect(fields.slice(0, 2)).toEqual(['id', poison]);
    expect(JSON.parse(fields[3])).toMatchObject({ id: poison, error: 'MaxDeliveriesExceeded', raw: 'poison' });
    await got[0].ack();
    expect(await pendingCount('in', 'g')).toBe(0);
  });

  it('stop: stops reading, completes once every delivery is acknowledged, and closes its connections', async () => {
    await add('in', ['1', '2', '3']);
    const stop = new Subject<void>();
    const got: RedisDelivery[] = [];
    let completed = false;
    subscription = fromRedisStream(server.url('in', '?group=g'), {
      consumer: 'stopper',
      stop,
      blockMs: 5000,
    }).subscribe({
      next: (d) => got.push(d),
      complete: () => (completed = true),
    });
    await until(() => got.length === 3);
    const clients = async () =>
      ((await redis.client('LIST')) as string).split('\n').filter((l) => l.includes('name=stopper')).length;
    expect(await clients()).toBe(2);
    const stopped = Date.now();
    stop.next();
    await new Promise((r) => setTimeout(r, 100));
    expect(completed).toBe(false);
    await add('in', ['4']);
    await Promise.all(got.map((d) => d.ack()));
    await until(() => completed);
    // The blocked read was woken at once (not after blockMs), and entry 4 was never read.
    expect(Date.now() - stopped).toBeLessThan(2000);
    expect(got).toHaveLength(3);
    await until(async () => (await clients()) === 0);
    expect(await pendingCount('in', 'g')).toBe(0);
  });

  it('unsubscribe closes its connections; what it held stays pending for others', async () => {
    await add('in', ['1']);
    const got: RedisDelivery[] = [];
    subscription = fromRedisStream(server.url('in', '?group=g'), { consumer: 'leaver' }).subscribe((d) => got.push(d));
    await until(() => got.length === 1);
    subscription.unsubscribe();
    await until(async () => !((await redis.client('LIST')) as string).includes('name=leaver'));
    expect(await pendingCount('in', 'g')).toBe(1);
    await expect(got[0].ack()).rejects.toThrow(/closed/);
  });

  it('takes credentials from the URL (ACL user) and never shows them in errors', async () => {
    await redis.call('ACL', 'SETUSER', 'alice', 'on', '>s3cret-pw', '~*', '&*', '+@all');
    await add('in', ['1']);
    const ok = await firstValueFrom(fromRedisStream(`redis://alice:s3cret-pw@127.0.0.1:${server.port}/in?group=g`));
    expect(ok.value).toBe('1');
    const error = await lastValueFrom(
      fromRedisStream(`redis://alice:wrong-pw@127.0.0.1:${server.port}/in?group=g`),
    ).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/cannot connect to redis:\/\/127\.0\.0\.1:\d+\/in/);
    expect((error as Error).message).not.toMatch(/wrong-pw|alice:/);
  });

  it('fails clearly when the server cannot be reached', async () => {
    const error = await lastValueFrom(fromRedisStream('redis://127.0.0.1:1/in?group=g')).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/cannot connect to redis:\/\/127\.0\.0\.1:1\/in: .*ECONNREFUSED/);
  });
});
