import { isLeft } from 'fp-ts/lib/Either.js';
import Redis from 'ioredis';
import { lastValueFrom, map, Subject, tap } from 'rxjs';
import { modelHandler } from 'rxjs-inference/handlers';
import { runInference, withExceptionHandling } from 'rxjs-inference/operators';
import { fromRedisStream, toRedisStream, type RedisDelivery } from 'rxjs-inference/redis';
import { describeRedis, RedisServer } from './redisServer';

describeRedis('a library pipeline: fromRedisStream → runInference → toRedisStream (docs/scale-out.md)', () => {
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

  it('scores every entry, dead-letters the bad one, acknowledges all, and completes after stop', async () => {
    const pipeline = redis.pipeline();
    for (const v of ['1', '2', 'oops', '4']) pipeline.xadd('jobs', '*', 'data', v);
    await pipeline.exec();
    const shutdown$ = new Subject<void>();

    // The snippet of docs/scale-out.md, with a model that doubles numbers (results are PredictionResults, as the
    // ONNX and TF.js handlers give).
    const handler = modelHandler({
      loadModel: () => 2,
      runInference: (batch: { x: number }[], k) => batch.map((example) => ({ example, inference: example.x * k })),
    });
    const byExample = new WeakMap<object, RedisDelivery>();
    const deliveryOf = (x: unknown): RedisDelivery => byExample.get(x as object) ?? (x as RedisDelivery);
    const scorer = handler.withPreprocessFn((d: RedisDelivery) => {
      const example = { x: Number(d.value) };
      if (Number.isNaN(example.x)) throw new Error(`not a number: ${d.value}`);
      byExample.set(example, d);
      return example;
    });
    let written = 0;
    const done = lastValueFrom(
      fromRedisStream(server.url('jobs', '?group=scorers'), { stop: shutdown$ }).pipe(
        withExceptionHandling(runInference(scorer, { batch: { maxBatchDurationMs: 10 } })),
        map((result) =>
          isLeft(result)
            ? { delivery: deliveryOf(result.left.element), data: result.left.error.message, deadLetter: true }
            : { delivery: deliveryOf(result.right.example), data: JSON.stringify(result.right.inference) },
        ),
        toRedisStream(server.url('scores'), { deadLetter: server.url('jobs:failed') }),
        tap(() => ++written === 4 && shutdown$.next()),
      ),
    );
    await done;
    const scores = (await redis.xrange('scores', '-', '+')).map(([, f]) => f[3]);
    expect(scores.sort()).toEqual(['2', '4', '8']);
    const failed = await redis.xrange('jobs:failed', '-', '+');
    expect(failed.map(([, f]) => f[3])).toEqual([expect.stringMatching(/not a number: oops/)]);
    expect(Number(((await redis.xpending('jobs', 'scorers')) as [number])[0])).toBe(0);
  });
});
