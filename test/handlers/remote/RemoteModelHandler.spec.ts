import { catchError, lastValueFrom, map, of, type SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  InferenceError,
  InferenceTimeoutError,
  HttpError,
  RemoteInferenceError,
  RemoteModelHandler,
  type RemoteModelHandlerConfig,
} from '../../../src/index';
import type { InferenceContext } from '../../../src/index';

function context(scheduler: SchedulerLike, signal: AbortSignal = new AbortController().signal): InferenceContext {
  return { inferenceArgs: undefined, modelId: 'm1', signal, scheduler };
}

/** What a failed batch says, as a value: so marble diagrams can show when and how it failed. */
function outcome(error: unknown): string {
  const e = error as RemoteInferenceError;
  return `${e.constructor.name}:${e.reason}:${e.attempts}:${e.status ?? '-'}:${(e.cause as Error | undefined)?.name}`;
}

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

type Config = RemoteModelHandlerConfig<string, string, unknown>;

describe('RemoteModelHandler (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => (scheduler = newScheduler()));

  function handler(config: Partial<Config> & Pick<Config, 'request'>): RemoteModelHandler<string, string, unknown> {
    return new RemoteModelHandler<string, string, unknown>({
      throttle: false,
      scheduler,
      random: () => 0.5,
      ...config,
    });
  }

  it('wraps each raw output in a PredictionResult with the model id', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const h = handler({ request: (batch) => cold('---(a|)', { a: batch.map((x) => x.toUpperCase()) }) });
      expectObservable(h.runInference(['a', 'b'], undefined, context(scheduler))).toBe('---(r|)', {
        r: [
          { example: 'a', inference: 'A', modelId: 'm1' },
          { example: 'b', inference: 'B', modelId: 'm1' },
        ],
      });
    });
    expect(handler({ request: () => [] }).stats).toEqual(
      expect.objectContaining({ requests: 0, successes: 0, failedBatches: 0, inFlight: 0 }),
    );
  });

  it('backs off exponentially with full jitter: waits random·min(maxDelay, initial·factor^(n−1))', () => {
    const sentAt: number[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const h = handler({
        request: () => {
          sentAt.push(scheduler.now());
          return cold('--#', undefined, new HttpError(503, 'busy'));
        },
        retry: { maxAttempts: 5, initialDelayMs: 10, factor: 3, maxDelayMs: 60 },
      });
      // Fails 2 ms after each send; waits 0.5·10 = 5, 0.5·30 = 15, 0.5·min(60, 90) = 30, 0.5·60 = 30.
      //   sends at 0, 7 (2 + 5), 24 (9 + 15), 56 (26 + 30), 88 (58 + 30); gives up at 90.
      const result = h.runInference(['a'], undefined, context(scheduler)).pipe(catchError((e) => of(outcome(e))));
      expectObservable(result).toBe('90ms (e|)', { e: 'RemoteInferenceError:attempts-exhausted:5:503:HttpError' });
    });
    expect(sentAt).toEqual([0, 7, 24, 56, 88]);
  });

  it('draws a new jitter for every retry from the injected random source', () => {
    const sentAt: number[] = [];
    const draws = [0.9, 0.1, 0.0];
    scheduler.run(({ cold, expectObservable }) => {
      const h = handler({
        request: () => {
          sentAt.push(scheduler.now());
          return sentAt.length < 4 ? cold('-#', undefined, new HttpError(500)) : cold('-(a|)', { a: ['A'] });
        },
        retry: { initialDelayMs: 100 },
        random: () => draws.shift()!,
      });
      // Waits floor(0.9·100) = 90, floor(0.1·200) = 20, floor(0·400) = 0.
      expectObservable(h.runInference(['a'], undefined, context(scheduler)).pipe(map((r) => r.length))).toBe(
        '114ms (n|)',
        { n: 1 },
      );
    });
    expect(sentAt).toEqual([0, 91, 112, 113]);
  });

  it("honours a server's Retry-After when it is longer than the backoff", () => {
    const sentAt: number[] = [];
    const errors = [
      new HttpError(429, 'slow down', { retryAfterMs: 30 }),
      Object.assign(new Error('unavailable'), { statusCode: 503, headers: { 'Retry-After': '1' } }),
      Object.assign(new Error('unavailable'), {
        response: { status: 503, headers: new Headers({ 'retry-after': new Date(2000).toUTCString() }) },
      }),
      Object.assign(new Error('quota'), { status: 429, retryAfter: 0 }),
    ];
    scheduler.run(({ cold, expectObservable }) => {
      const h = handler({
        request: () => {
          sentAt.push(scheduler.now());
          const error = errors.shift();
          return error ? cold('-#', undefined, error) : cold('-(a|)', { a: ['A'] });
        },
        retry: { initialDelayMs: 10 },
      });
      expectObservable(h.runInference(['a'], undefined, context(scheduler)).pipe(map((r) => r.length))).toBe(
        '2042ms (n|)',
        { n: 1 },
      );
    });
    // Sent at 0, fails at 1: Retry-After 30 ms beats the 5 ms backoff → 31. Fails at 32: a `Retry-After: 1` header
    // (seconds) → 1032. Fails at 1033: Retry-After is an HTTP date, 2000 ms after the epoch of the virtual clock →
    // 2000. Fails at 2001: Retry-After 0 is shorter than the 0.5·80 = 40 ms backoff → 2041.
    expect(sentAt).toEqual([0, 31, 1032, 2000, 2041]);
  });

  it('never retries a 4xx other than 429', () => {
    const sentAt: number[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const h = handler({
        request: () => {
          sentAt.push(scheduler.now());
          return cold('--#', undefined, new HttpError(400, 'bad input', { body: '{"error":"x"}' }));
        },
      });
      const result = h.runInference(['a'], undefined, context(scheduler)).pipe(catchError((e) => of(outcome(e))));
      expectObservable(result).toBe('--(e|)', { e: 'RemoteInferenceError:not-retryable:1:400:HttpError' });
    });
    expect(sentAt).toEqual([0]);
  });

  it('gives up at the deadline instead of waiting for a retry that would start after it', () => {
    const sentAt: number[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const h = handler({
        request: () => {
          sentAt.push(scheduler.now());
          return cold('--#', undefined, new HttpError(502));
        },
        retry: { maxAttempts: 10, initialDelayMs: 10 },
        deadlineMs: 40,
      });
      // Sends at 0, 7, 19; after the failure at 21 the next wait (0.5·40 = 20) would end at 41, past 40.
      const result = h.runInference(['a'], undefined, context(scheduler)).pipe(catchError((e) => of(outcome(e))));
      expectObservable(result).toBe('21ms (e|)', { e: 'RemoteInferenceError:deadline:3:502:HttpError' });
    });
    expect(sentAt).toEqual([0, 7, 19]);
  });

  it('aborts an in-flight request when the deadline passes', () => {
    let signal: AbortSignal | undefined;
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = cold('100ms (a|)', { a: ['A'] });
      const h = handler({
        request: (_batch, ctx) => {
          signal = ctx.signal;
          return slow;
        },
        deadlineMs: 30,
      });
      const result = h.runInference(['a'], undefined, context(scheduler)).pipe(catchError((e) => of(outcome(e))));
      expectObservable(result).toBe('30ms (e|)', { e: 'RemoteInferenceError:deadline:1:-:InferenceTimeoutError' });
      expectSubscriptions(slow.subscriptions).toBe('^ 29ms !');
    });
    expect(signal?.aborted).toBe(true);
  });

  it('times out a slow request (timeoutMs), aborts its signal and retries', () => {
    const signals: AbortSignal[] = [];
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = cold('100ms (a|)', { a: ['late'] });
      const fast = cold('-(a|)', { a: ['A'] });
      const h = handler({
        request: (_batch, { signal, attempt }) => {
          signals.push(signal);
          return attempt === 1 ? slow : fast;
        },
        timeoutMs: 10,
        retry: { initialDelayMs: 10 },
      });
      // Times out at 10, waits 5, sends at 15, answered at 16.
      expectObservable(h.runInference(['a'], undefined, context(scheduler)).pipe(map((r) => r[0].inference))).toBe(
        '16ms (x|)',
        { x: 'A' },
      );
      expectSubscriptions(slow.subscriptions).toBe('^ 9ms !');
      expectSubscriptions(fast.subscriptions).toBe('15ms ^!');
    });
    expect(signals[0].aborted).toBe(true);
    expect(signals[0].reason).toBeInstanceOf(InferenceTimeoutError);
    expect(signals[1].aborted).toBe(false);
  });

  it('fails with the timeout as cause once the attempts run out', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const h = handler({
        request: () => cold('100ms (a|)', { a: ['late'] }),
        timeoutMs: 10,
        retry: { maxAttempts: 2, initialDelayMs: 10 },
      });
      const result = h.runInference(['a'], undefined, context(scheduler)).pipe(catchError((e) => of(outcome(e))));
      expectObservable(result).toBe('25ms (e|)', {
        e: 'RemoteInferenceError:attempts-exhausted:2:-:InferenceTimeoutError',
      });
    });
  });

  it('waits while throttled (no attempt spent, throttled time counted) and fails at the deadline', () => {
    const sentAt: number[] = [];
    let h!: RemoteModelHandler<string, string, unknown>;
    scheduler.run(({ cold, expectObservable }) => {
      h = handler({
        request: () => {
          sentAt.push(scheduler.now());
          return cold('-#', undefined, new HttpError(503));
        },
        throttle: { delayMs: 100 },
        random: () => 0.4,
        retry: { maxAttempts: 3, initialDelayMs: 10 },
        deadlineMs: 350,
      });
      // Sent at 0 (no history), fails at 1, backoff 0.4·10 = 4. At 5 the probability is (1 − 0)/(1 + 1) = 0.5 > 0.4:
      // throttled (this attempt now counts as a request), waits 100. The re-checks at 105, 205, 305 see 2/3: they do
      // not count as new requests. At 305, waiting 100 more would pass the deadline.
      const result = h.runInference(['a'], undefined, context(scheduler)).pipe(catchError((e) => of(outcome(e))));
      expectObservable(result).toBe('305ms (e|)', { e: 'RemoteInferenceError:deadline:1:503:HttpError' });
    });
    expect(sentAt).toEqual([0]);
    expect(h.stats).toEqual(
      expect.objectContaining({ requests: 1, failedRequests: 1, retries: 1, throttledRequests: 4, throttledMs: 300 }),
    );
  });

  it('lets a throttled batch through once the throttler allows it', () => {
    const sentAt: number[] = [];
    const draws = [0.9 /* throttle check, p = 0 */, 0.4 /* jitter */, 0.4 /* p = 0.5: throttled */, 0.9 /* p = 2/3 */];
    scheduler.run(({ cold, expectObservable }) => {
      const h = handler({
        request: () => {
          sentAt.push(scheduler.now());
          return sentAt.length === 1 ? cold('-#', undefined, new HttpError(503)) : cold('-(a|)', { a: ['A'] });
        },
        throttle: { delayMs: 50 },
        random: () => draws.shift() ?? 0.9,
        retry: { initialDelayMs: 10 },
      });
      expectObservable(h.runInference(['a'], undefined, context(scheduler)).pipe(map((r) => r.length))).toBe(
        '56ms (n|)',
        { n: 1 },
      );
    });
    expect(sentAt).toEqual([0, 55]);
  });

  it('caps concurrent requests across batches and serves waiting batches in order', () => {
    const sends: string[] = [];
    let h!: RemoteModelHandler<string, string, unknown>;
    scheduler.run(({ cold, expectObservable }) => {
      h = handler({
        request: (batch) => {
          sends.push(`${batch[0]}@${scheduler.now()}`);
          return cold('---(a|)', { a: batch.map((x) => x.toUpperCase()) });
        },
        maxConcurrentRequests: 2,
      });
      const run = (x: string) => h.runInference([x], undefined, context(scheduler)).pipe(map((r) => r[0].inference));
      expectObservable(run('a')).toBe('---(A|)', { A: 'A' });
      expectObservable(run('b')).toBe('---(B|)', { B: 'B' });
      expectObservable(run('c')).toBe('------(C|)', { C: 'C' });
      expectObservable(run('d')).toBe('------(D|)', { D: 'D' });
      expectObservable(run('e')).toBe('---------(E|)', { E: 'E' });
    });
    expect(sends).toEqual(['a@0', 'b@0', 'c@3', 'd@3', 'e@6']);
    expect(h.stats.maxInFlight).toBe(2);
    expect(h.stats.inFlight).toBe(0);
  });

  it('a batch unsubscribed while waiting for a slot leaves the queue; one unsubscribed in flight frees its slot', () => {
    const sends: string[] = [];
    const signals: AbortSignal[] = [];
    let h!: RemoteModelHandler<string, string, unknown>;
    scheduler.run(({ cold, expectObservable }) => {
      h = handler({
        request: (batch, { signal }) => {
          sends.push(`${batch[0]}@${scheduler.now()}`);
          signals.push(signal);
          return cold('----(a|)', { a: batch });
        },
        maxConcurrentRequests: 1,
      });
      const run = (x: string) => h.runInference([x], undefined, context(scheduler)).pipe(map((r) => r[0].inference));
      expectObservable(run('a'), '^-!').toBe('--');
      expectObservable(run('b'), '^!').toBe('-');
      expectObservable(run('c')).toBe('------(c|)', { c: 'c' });
    });
    expect(sends).toEqual(['a@0', 'c@2']);
    expect(signals[0].aborted).toBe(true);
    expect(h.stats).toEqual(expect.objectContaining({ inFlight: 0, queued: 0 }));
  });

  it('a batch still waiting for a slot at its deadline fails without sending and leaves the queue', () => {
    const sends: string[] = [];
    let h!: RemoteModelHandler<string, string, unknown>;
    scheduler.run(({ cold, expectObservable }) => {
      h = handler({
        request: (batch) => {
          sends.push(`${batch[0]}@${scheduler.now()}`);
          return cold('----------(a|)', { a: batch });
        },
        maxConcurrentRequests: 1,
        deadlineMs: 6,
      });
      const run = (x: string) =>
        h.runInference([x], undefined, context(scheduler)).pipe(
          map((r) => r[0].inference),
          catchError((e) => of(`${outcome(e)} ${(e as Error).message}`)),
        );
      expectObservable(run('a')).toBe('------(e|)', {
        e:
          'RemoteInferenceError:deadline:1:-:InferenceTimeoutError Remote model request did not succeed within the ' +
          'deadline of 6 ms after 1 attempt',
      });
      expectObservable(run('b')).toBe('------(e|)', {
        e:
          'RemoteInferenceError:deadline:0:-:InferenceTimeoutError Remote model request did not succeed within the ' +
          'deadline of 6 ms after 0 attempts',
      });
    });
    expect(sends).toEqual(['a@0']);
    expect(h.stats).toEqual(expect.objectContaining({ inFlight: 0, queued: 0, failedBatches: 2 }));
  });

  it("aborts when the operator's signal fires", () => {
    const controller = new AbortController();
    let requestSignal: AbortSignal | undefined;
    scheduler.run(({ cold, expectObservable }) => {
      const h = handler({
        request: (_b, { signal }) => {
          requestSignal = signal;
          return cold('20ms (a|)', { a: ['A'] });
        },
      });
      cold('5ms a').subscribe(() => controller.abort(new Error('batch timeout')));
      const result = h
        .runInference(['a'], undefined, context(scheduler, controller.signal))
        .pipe(catchError((e) => of(outcome(e))));
      expectObservable(result).toBe('5ms (e|)', { e: 'RemoteInferenceError:aborted:1:-:Error' });
    });
    expect(requestSignal?.aborted).toBe(true);
  });

  it('fails at once when the signal is already aborted', () => {
    const controller = new AbortController();
    controller.abort();
    const request = jest.fn(() => ['A']);
    scheduler.run(({ expectObservable }) => {
      const result = handler({ request })
        .runInference(['a'], undefined, context(scheduler, controller.signal))
        .pipe(catchError((e) => of(outcome(e))));
      expectObservable(result).toBe('(e|)', { e: 'RemoteInferenceError:aborted:0:-:AbortError' });
    });
    expect(request).not.toHaveBeenCalled();
  });

  it('fails a response with the wrong number of outputs without retrying', () => {
    const request = jest.fn(() => ['only one']);
    scheduler.run(({ expectObservable }) => {
      const result = handler({ request })
        .runInference(['a', 'b'], undefined, context(scheduler))
        .pipe(catchError((e) => of(`${outcome(e)} ${(e as Error).message}`)));
      expectObservable(result).toBe('(e|)', {
        e:
          'RemoteInferenceError:bad-response:1:-:TypeError Remote model response is malformed: ' +
          'Expected one output per input (2), got 1 outputs.',
      });
    });
    expect(request).toHaveBeenCalledTimes(1);
  });

  it("takes the error's status from the last answer, not from an earlier attempt (#13 item 12)", () => {
    const seen: string[] = [];
    scheduler.run(({ cold }) => {
      handler({
        request: (_b, { attempt }) => (attempt === 1 ? cold('-#', undefined, new HttpError(503)) : ['only one']),
      })
        .runInference(['a', 'b'], undefined, context(scheduler))
        .pipe(catchError((e) => of(outcome(e))))
        .subscribe((e) => seen.push(String(e)));
    });
    // The 503 was retried; the last answer was a malformed 2xx: no HTTP status to report.
    expect(seen).toEqual(['RemoteInferenceError:bad-response:2:-:TypeError']);
  });

  it('treats a synchronous throw, an empty Observable and a non-array value as final failures', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const run = (request: Config['request']) =>
        handler({ request })
          .runInference(['a'], undefined, context(scheduler))
          .pipe(catchError((e) => of(outcome(e))));
      expectObservable(
        run(() => {
          throw new Error('bug');
        }),
      ).toBe('(e|)', { e: 'RemoteInferenceError:not-retryable:1:-:Error' });
      expectObservable(run(() => cold('--|'))).toBe('--(e|)', {
        e: 'RemoteInferenceError:not-retryable:1:-:TypeError',
      });
      expectObservable(run(() => 42 as never)).toBe('(e|)', { e: 'RemoteInferenceError:not-retryable:1:-:TypeError' });
      expectObservable(run(() => of('not an array') as never)).toBe('(e|)', {
        e: 'RemoteInferenceError:bad-response:1:-:TypeError',
      });
    });
  });

  it('uses a custom retryFilter, and fails cleanly when it throws', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const everything = handler({
        request: (_b, { attempt }) =>
          attempt < 3 ? cold('-#', undefined, new HttpError(404)) : cold('-(a|)', { a: ['A'] }),
        retryFilter: () => true,
        retry: { initialDelayMs: 2 },
      });
      expectObservable(everything.runInference(['a'], undefined, context(scheduler)).pipe(map((r) => r.length))).toBe(
        '6ms (n|)',
        { n: 1 },
      );
      const broken = handler({
        request: () => cold('-#', undefined, new HttpError(503)),
        retryFilter: () => {
          throw new Error('filter bug');
        },
      });
      expectObservable(
        broken.runInference(['a'], undefined, context(scheduler)).pipe(catchError((e) => of(outcome(e)))),
      ).toBe('-(e|)', { e: 'RemoteInferenceError:not-retryable:1:503:Error' });
    });
  });

  it("uses the operator's scheduler when none is configured", () => {
    const sentAt: number[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const h = new RemoteModelHandler<string, string>({
        request: () => {
          sentAt.push(scheduler.now());
          return sentAt.length === 1 ? cold('-#', undefined, new HttpError(500)) : cold('-(a|)', { a: ['A'] });
        },
        throttle: false,
        random: () => 0,
      });
      expectObservable(h.runInference(['a'], { modelId: '' }, context(scheduler)).pipe(map((r) => r.length))).toBe(
        '2ms (n|)',
        { n: 1 },
      );
    });
    expect(sentAt).toEqual([0, 1]);
  });
});

describe('RemoteModelHandler (model handler contract)', () => {
  it('accepts requests returning Promises and counts what happened', async () => {
    const h = new RemoteModelHandler<number, number>({ request: async (batch) => batch.map((x) => x * 2) });
    const results = await lastValueFrom(h.runInference([1, 2], { modelId: '' }, context(undefined as never)));
    expect(results).toEqual([
      { example: 1, inference: 2, modelId: 'm1' },
      { example: 2, inference: 4, modelId: 'm1' },
    ]);
    expect(h.stats).toEqual({
      requests: 1,
      successes: 1,
      failedRequests: 0,
      retries: 0,
      throttledRequests: 0,
      throttledMs: 0,
      failedBatches: 0,
      inFlight: 0,
      maxInFlight: 1,
      queued: 0,
    });
  });

  it('passes the client, the model id and the inference args to request', async () => {
    const seen: unknown[] = [];
    const h = new RemoteModelHandler<number, number, { url: string }>({
      createClient: (modelId) => ({ url: `http://models/${modelId}` }),
      request: (batch, ctx) => {
        seen.push([ctx.client.url, ctx.modelId, ctx.inferenceArgs, ctx.attempt]);
        return batch;
      },
    });
    const client = (await h.loadModel('v2')) as { url: string };
    expect(client).toEqual({ url: 'http://models/v2' });
    h.validateInferenceArgs({ temperature: 0 });
    const ctx = { ...context(undefined as never), modelId: 'v2', inferenceArgs: { temperature: 0 } };
    await lastValueFrom(h.runInference([1], client, ctx));
    expect(seen).toEqual([['http://models/v2', 'v2', { temperature: 0 }, 1]]);
  });

  it('has a default client, releases clients, declines bisection and passes its batch config', () => {
    const releaseClient = jest.fn();
    const h = new RemoteModelHandler<number, number>({ request: (b) => b, releaseClient, batch: { maxBatchSize: 8 } });
    expect(h.loadModel()).toEqual({ modelId: '' });
    expect(h.loadModel('x')).toEqual({ modelId: 'x' });
    h.releaseModel({ modelId: 'x' });
    expect(releaseClient).toHaveBeenCalledWith({ modelId: 'x' });
    expect(h.bisectOnFailure()).toBe(false);
    expect(h.batchConfig()).toEqual({ maxBatchSize: 8 });
    expect(new RemoteModelHandler({ request: (b) => b }).batchConfig()).toEqual({});
    // Composition keeps the remote behaviour.
    expect(h.withPostprocessFn((r) => r.inference).bisectOnFailure()).toBe(false);
  });

  it('is an InferenceError with the status and the cause, for dead-letter records', async () => {
    const cause = new HttpError(400, 'bad', { body: 'nope' });
    const h = new RemoteModelHandler<number, number>({
      request: () => Promise.reject(cause),
      throttle: false,
    });
    const error = await lastValueFrom(h.runInference([1], { modelId: '' }, context(undefined as never))).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InferenceError);
    expect(error).toBeInstanceOf(RemoteInferenceError);
    expect(error).toMatchObject({ status: 400, batchSize: 1, attempts: 1, reason: 'not-retryable', cause });
    expect((error as Error).message).toBe('Remote model request failed after 1 attempt (HTTP 400): bad');
    expect(h.stats.failedBatches).toBe(1);
  });

  it('works without a scheduler or signal in the context (asyncScheduler, never aborted)', async () => {
    const h = new RemoteModelHandler<number, number>({
      request: (b, { attempt }) => (attempt === 1 ? Promise.reject(new HttpError(503)) : b),
      retry: { initialDelayMs: 1 },
      throttle: false,
    });
    const out = await lastValueFrom(
      h.runInference([7], { modelId: '' }, { modelId: '', inferenceArgs: undefined } as unknown as InferenceContext),
    );
    expect(out).toEqual([{ example: 7, inference: 7, modelId: '' }]);
    expect(h.stats.retries).toBe(1);
  });

  it('unsubscribing cancels a pending Promise-based request', async () => {
    let signal: AbortSignal | undefined;
    const h = new RemoteModelHandler<number, number>({
      request: (_b, ctx) => {
        signal = ctx.signal;
        return new Promise<number[]>(() => {});
      },
    });
    const subscription = h.runInference([1], { modelId: '' }, context(undefined as never)).subscribe();
    await Promise.resolve();
    subscription.unsubscribe();
    expect(signal?.aborted).toBe(true);
    expect(h.stats.inFlight).toBe(0);
  });
});

describe('RemoteModelHandler config validation', () => {
  const request = (b: readonly unknown[]) => b;
  it.each([
    [undefined, 'TypeError', /config|request/],
    [{}, 'TypeError', /request/],
    [{ request: 1 }, 'TypeError', /request/],
    [{ request, createClient: 'x' }, 'TypeError', /createClient/],
    [{ request, retryFilter: 1 }, 'TypeError', /retryFilter/],
    [{ request, maxConcurrentRequests: 0 }, 'RangeError', /maxConcurrentRequests/],
    [{ request, maxConcurrentRequests: 1.5 }, 'RangeError', /maxConcurrentRequests/],
    [{ request, timeoutMs: 0 }, 'RangeError', /timeoutMs/],
    [{ request, deadlineMs: -1 }, 'RangeError', /deadlineMs/],
    [{ request, retry: { maxAttempts: 0 } }, 'RangeError', /retry\.maxAttempts/],
    [{ request, retry: { factor: 0.5 } }, 'RangeError', /retry\.factor/],
    [{ request, retry: { initialDelayMs: 100, maxDelayMs: 10 } }, 'RangeError', /retry\.maxDelayMs/],
    [{ request, retry: 3 }, 'TypeError', /retry/],
    [{ request, throttle: true }, 'TypeError', /throttle/],
    [{ request, throttle: { delayMs: 0 } }, 'RangeError', /throttle\.delayMs/],
    [{ request, throttle: { overloadRatio: 0 } }, 'RangeError', /overloadRatio/],
    [{ request, scheduler: {} }, 'TypeError', /scheduler/],
    [{ request, random: 'x' }, 'TypeError', /random/],
  ])('rejects %p', (config, name, message) => {
    let thrown: unknown;
    try {
      new RemoteModelHandler(config as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toBe(name);
    expect((thrown as Error).message).toMatch(message);
  });

  it('accepts Infinity for maxConcurrentRequests and false for throttle', () => {
    expect(() => new RemoteModelHandler({ request, maxConcurrentRequests: Infinity, throttle: false })).not.toThrow();
  });
});
