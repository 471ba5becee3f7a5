import { isLeft, isRight, right } from 'fp-ts/lib/Either';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { asyncScheduler, from, lastValueFrom, range, toArray } from 'rxjs';
import {
  InferenceTimeoutError,
  HttpError,
  RemoteInferenceError,
  RemoteModelHandler,
  type RemoteModelHandlerConfig,
  runInference,
  withExceptionHandling,
} from '../../../src/index';
import type { InferenceContext } from '../../../src/index';
import { fetchPredict, ModelServer, seeded, type Fault } from './modelServer';

let server: ModelServer;
beforeAll(async () => {
  server = await ModelServer.start();
  // The first fetch of a process loads undici (~100 ms): keep that out of the timed tests.
  await fetchPredict(server.url, [0], new AbortController().signal);
});
afterAll(() => server.close());

type Config = RemoteModelHandlerConfig<number, number, unknown>;

function remote(config: Partial<Config> = {}): RemoteModelHandler<number, number, unknown> {
  return new RemoteModelHandler<number, number, unknown>({
    request: (batch, { signal }) => fetchPredict(server.url, batch, signal),
    random: seeded(42),
    ...config,
  });
}

function context(): InferenceContext {
  return {
    inferenceArgs: undefined,
    modelId: 'remote',
    signal: new AbortController().signal,
    scheduler: asyncScheduler,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RemoteModelHandler against a real HTTP server', () => {
  it('rides out 503s, 429 + Retry-After, connection resets and slow responses: every input once, concurrency capped at the server', async () => {
    const faults: Fault[] = [
      { kind: 'status', status: 503 },
      { kind: 'reset' },
      { kind: 'slow', delayMs: 600 },
      { kind: 'status', status: 429, retryAfter: '0' },
    ];
    const seen = new Map<number, number>();
    // A batch whose first input is x fails (x mod 4) times, with a different fault each time, then succeeds.
    server.reset((inputs) => {
      const key = inputs[0];
      const k = seen.get(key) ?? 0;
      seen.set(key, k + 1);
      return k < key % 4 ? faults[(key + k) % 4] : { kind: 'ok', delayMs: 15 };
    });
    // The client notes when it aborts each request (timeouts), by request id.
    const abortedAt = new Map<string, number>();
    let nextId = 0;
    const handler = remote({
      request: (batch, { signal }) => {
        const id = String(nextId++);
        signal.addEventListener('abort', () => abortedAt.set(id, performance.now()));
        return fetchPredict(server.url, batch, signal, id);
      },
      maxConcurrentRequests: 3,
      timeoutMs: 150, // a 'slow' answer (600 ms) always times out; an 'ok' one (15 ms) has room on a loaded machine
      retry: { maxAttempts: 6, initialDelayMs: 10, maxDelayMs: 40 },
      throttle: { delayMs: 20, windowMs: 1000, bucketMs: 50 },
    });
    const results = await lastValueFrom(
      range(0, 60).pipe(runInference(handler, { concurrent: 6, batch: { maxBatchSize: 4 } }), toArray()),
    );
    expect(results.map((r) => r.example)).toEqual([...Array(60).keys()]);
    expect(results.every((r) => r.inference === r.example * 2 && r.modelId === '')).toBe(true);
    // At the server: at most 3 requests in flight (a timed-out request ends when the client aborts it).
    const atServer = server.maxInFlightGivenAborts((id) => abortedAt.get(id));
    expect(atServer).toBeLessThanOrEqual(3);
    expect(atServer).toBeGreaterThanOrEqual(2);
    expect(abortedAt.size).toBeGreaterThan(0);
    const kinds = new Set(server.arrivals.map((a) => a.fault));
    expect([...kinds].sort()).toEqual(['ok', 'reset', 'slow', 'status']);
    const stats = handler.stats;
    expect(stats.retries).toBeGreaterThan(0);
    // A request can time out before it reaches the server, and an answer can come after the client gave up.
    expect(stats.requests).toBeGreaterThanOrEqual(server.arrivals.length);
    expect(stats.successes).toBeLessThanOrEqual(server.arrivals.filter((a) => a.fault === 'ok').length);
    expect(stats.successes).toBeGreaterThanOrEqual(15); // one per batch: 60 inputs in batches of at most 4
    expect(stats.maxInFlight).toBe(3);
    expect(stats.inFlight).toBe(0);
  });

  it('sends what cannot succeed (malformed JSON, 400, 503 past the attempts) to the dead letters with status and cause; nothing lost or doubled', async () => {
    server.reset((inputs) => {
      switch (inputs[0] % 4) {
        case 1:
          return { kind: 'malformed' };
        case 2:
          return { kind: 'status', status: 400 };
        case 3:
          return { kind: 'status', status: 503 };
        default:
          return { kind: 'ok' };
      }
    });
    const handler = remote({ maxConcurrentRequests: 4, retry: { maxAttempts: 3, initialDelayMs: 5 }, throttle: false });
    // Batches never mix residues mod 4, so each batch meets exactly one kind of answer.
    const stage = runInference(handler, {
      concurrent: 4,
      batch: { maxBatchSize: 3, batchKeyFn: (x: number) => x % 4 },
    });
    const outputs = await lastValueFrom(range(0, 36).pipe(withExceptionHandling(stage), toArray()));

    // Every input exactly once, Lefts and Rights together in input order.
    expect(outputs.map((e) => (isRight(e) ? e.right.example : e.left.element))).toEqual([...Array(36).keys()]);
    for (const [x, e] of outputs.entries()) {
      if (x % 4 === 0) {
        expect(e).toEqual(right({ example: x, inference: 2 * x, modelId: '' }));
        continue;
      }
      if (!isLeft(e)) throw new Error(`expected a failure record for ${x}`);
      const record = e.left;
      expect(record).toMatchObject({ stage: 'inference', index: 0, element: x });
      expect(record.batch).toContain(x);
      expect(record.batch!.every((y) => (y as number) % 4 === x % 4)).toBe(true);
      const error = record.error as RemoteInferenceError;
      expect(error).toBeInstanceOf(RemoteInferenceError);
      expect(error.batchSize).toBe(record.batch!.length);
      if (x % 4 === 1) {
        expect(error).toMatchObject({ reason: 'not-retryable', attempts: 1, status: undefined });
        // (fetch's errors come from Node's realm, not jest's: compare names.)
        expect((error.cause as Error).name).toBe('SyntaxError');
      } else {
        expect(error).toMatchObject(
          x % 4 === 2
            ? { reason: 'not-retryable', attempts: 1, status: 400 }
            : { reason: 'attempts-exhausted', attempts: 3, status: 503 },
        );
        expect(error.cause).toBeInstanceOf(HttpError);
        expect((error.cause as HttpError).body).toBe(`{"error":"status ${error.status}"}`);
      }
    }
    // Only the 503 batches were retried (3 requests each), and no batch was bisected into more requests.
    const sentPerBatch = new Map<string, number>();
    for (const a of server.arrivals)
      sentPerBatch.set(JSON.stringify(a.inputs), (sentPerBatch.get(JSON.stringify(a.inputs)) ?? 0) + 1);
    for (const [batch, sent] of sentPerBatch)
      expect([batch, sent]).toEqual([batch, (JSON.parse(batch) as number[])[0] % 4 === 3 ? 3 : 1]);
    expect([...sentPerBatch.keys()].flatMap((b) => JSON.parse(b) as number[]).sort((a, b) => a - b)).toEqual([
      ...Array(36).keys(),
    ]);
    expect(handler.stats.failedBatches).toBe(
      [...sentPerBatch.keys()].filter((b) => (JSON.parse(b) as number[])[0] % 4 !== 0).length,
    );
  });

  it('throttling cuts the requests that reach a failing server, and lets them through once it recovers', async () => {
    const failForMs = 1000;
    const measure = async (throttle: Config['throttle']) => {
      let start = 0;
      server.reset(() => (performance.now() - start < failForMs ? { kind: 'status', status: 503 } : { kind: 'ok' }));
      const handler = remote({
        throttle,
        retry: { maxAttempts: 10_000, initialDelayMs: 1, maxDelayMs: 4 },
        random: seeded(9),
      });
      start = performance.now();
      const results = await lastValueFrom(
        range(0, 8).pipe(runInference(handler, { concurrent: 8, batch: { maxBatchSize: 1 } }), toArray()),
      );
      const duringFailure = server.arrivals.filter((a) => a.at - start < failForMs).length;
      return { results, duringFailure, stats: handler.stats };
    };
    const plain = await measure(false);
    const throttled = await measure({ delayMs: 20, windowMs: 1000, bucketMs: 20 });
    for (const run of [plain, throttled]) {
      expect(run.results.map((r) => r.example)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    }
    expect(plain.stats.throttledRequests).toBe(0);
    expect(throttled.stats.throttledRequests).toBeGreaterThan(0);
    expect(throttled.stats.throttledMs).toBeGreaterThan(0);
    // Measured on a loaded 2-core machine over 1 s of failures: 127–235 requests reached the server without
    // throttling, 17–18 with it (the throttled batches waited 7.8 s in all).
    expect(throttled.duringFailure * 3).toBeLessThan(plain.duringFailure);
  });

  it("waits as long as the server's Retry-After says (real seconds)", async () => {
    server.reset((_inputs, index) => (index === 0 ? { kind: 'status', status: 429, retryAfter: '1' } : { kind: 'ok' }));
    const handler = remote({ retry: { initialDelayMs: 1 }, throttle: false });
    const [result] = await lastValueFrom(handler.runInference([21], { modelId: '' }, context()));
    expect(result.inference).toBe(42);
    expect(server.arrivals).toHaveLength(2);
    expect(server.arrivals[1].at - server.arrivals[0].at).toBeGreaterThanOrEqual(995);
  });

  it('aborts a request past timeoutMs at the server, and fails with the timeout as cause', async () => {
    server.reset(() => ({ kind: 'slow', delayMs: 1000 }));
    const handler = remote({ timeoutMs: 50, retry: { maxAttempts: 2, initialDelayMs: 1 }, throttle: false });
    const started = performance.now();
    const error = await lastValueFrom(handler.runInference([1, 2], { modelId: '' }, context())).catch((e) => e);
    expect(performance.now() - started).toBeLessThan(500);
    expect(error).toBeInstanceOf(RemoteInferenceError);
    expect(error).toMatchObject({ reason: 'attempts-exhausted', attempts: 2 });
    expect(error.cause).toBeInstanceOf(InferenceTimeoutError);
    expect(server.arrivals).toHaveLength(2);
    // The server sees both connections closed (the client aborted them), long before it would have answered.
    for (let i = 0; i < 50 && server.inFlight > 0; i++) await sleep(5);
    expect(server.inFlight).toBe(0);
  });

  it('retries a refused connection (a real ECONNREFUSED) and reports it as the cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sent: number[] = [];
    const handler = new RemoteModelHandler<number, number>({
      request: (batch, { signal, attempt }) => {
        sent.push(attempt);
        return fetchPredict(`http://127.0.0.1:${port}/predict`, batch, signal);
      },
      retry: { maxAttempts: 3, initialDelayMs: 1 },
      throttle: false,
    });
    const error = await lastValueFrom(handler.runInference([1], { modelId: '' }, context())).catch((e) => e);
    expect(sent).toEqual([1, 2, 3]);
    expect(error).toMatchObject({ reason: 'attempts-exhausted', attempts: 3, status: undefined });
    expect((error.cause as Error).name).toBe('TypeError');
    expect((error.cause as Error & { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
  });

  it('unsubscribing aborts the request in flight at the server', async () => {
    server.reset(() => ({ kind: 'slow', delayMs: 1000 }));
    const handler = remote({ throttle: false });
    const subscription = from([[1]])
      .pipe(runInference(handler.withNoBatching()))
      .subscribe({ error: () => undefined });
    for (let i = 0; i < 400 && server.arrivals.length === 0; i++) await sleep(5);
    expect(server.inFlight).toBe(1);
    subscription.unsubscribe();
    for (let i = 0; i < 400 && server.inFlight > 0; i++) await sleep(5);
    expect(server.inFlight).toBe(0);
    expect(handler.stats.inFlight).toBe(0);
  });
});
