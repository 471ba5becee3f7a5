import { asyncScheduler, map, Observable, type ObservableInput, type SchedulerLike } from 'rxjs';
import type { BatchElementsConfig } from '../../batching/BatchElementsConfig.js';
import type { InferenceArgs, InferenceContext, PredictionResult } from '../../core/types.js';
import { checkFunction, checkKnownKeys, checkNumber, checkObject, checkScheduler } from '../../core/validate.js';
import { ModelHandler, type ModelLoadResult, type PreprocessFn } from '../../models/ModelHandler.js';
import { resolveAllowNonFinite } from '../../tensors/resolveAllowNonFinite.js';
import { rejectNonFinite } from './rejectNonFinite.js';
import { AdaptiveThrottler, type AdaptiveThrottlerConfig } from './AdaptiveThrottler.js';
import { RemoteCall, type RemoteCounters } from './RemoteCall.js';
import { RequestSemaphore } from './RequestSemaphore.js';
import { isRetryableError, resolveRetry, type ResolvedRetry, type RetryConfig } from './retryPolicy.js';

/** What `request` is given besides the batch. */
export interface RemoteRequestContext<C> {
  /** Aborts when this attempt times out (`timeoutMs`), the deadline passes, or the subscriber unsubscribes. */
  readonly signal: AbortSignal;
  /** The client `createClient` made for the current model. */
  readonly client: C;
  /** 1 for the first request of this batch, 2 for the first retry, ... */
  readonly attempt: number;
  /** Id of the model the batch runs on (`''` = the handler's default). */
  readonly modelId: string;
  /** The operator's `inferenceArgs` (any are accepted and passed through). */
  readonly inferenceArgs: InferenceArgs | undefined;
}

/** Client-side adaptive throttling settings (`false` turns throttling off). */
export interface RemoteThrottleConfig extends Pick<AdaptiveThrottlerConfig, 'windowMs' | 'bucketMs' | 'overloadRatio'> {
  /**
   * How long a throttled attempt waits before asking the throttler again, in milliseconds. The wait counts as
   * throttled time and costs no attempt. Beam's `throttle_delay_secs` is 5 s, sized for Dataflow workers; 1 s, the
   * same as the first retry backoff, keeps a quiet stream from stalling 5 s after a single transient failure (with
   * few requests in the window one failure already gives a throttling probability of 1/2).
   * @default 1000
   */
  readonly delayMs?: number;
}

/** Configuration of a {@link RemoteModelHandler}. */
export interface RemoteModelHandlerConfig<In, Out, C> {
  /**
   * Sends one batch to the remote model and returns exactly one raw output per input, in input order (an array, a
   * Promise of one, or an Observable whose first value is one). Throw or reject on failure — with an `HttpError`, or
   * any error with a `status` — so that retries can tell transient failures from final ones. Pass `signal` to your
   * HTTP client: it aborts on timeout and on unsubscribe.
   */
  readonly request: (
    batch: readonly In[],
    context: RemoteRequestContext<C>,
  ) => readonly Out[] | ObservableInput<readonly Out[]>;
  /** Makes the client (connection pool, SDK object, URL) for a model id; it is the handler's "model". @default none: the client is `{ modelId }` */
  readonly createClient?: (modelId: string) => ModelLoadResult<C>;
  /** Closes a client when its model is replaced or the stream ends. @default nothing */
  readonly releaseClient?: (client: C) => void | PromiseLike<void>;
  /** Exponential backoff with full jitter. @default { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 30000, factor: 2 } */
  readonly retry?: RetryConfig;
  /** Which errors are worth another request. @default isRetryableError: network errors, the per-request timeout, HTTP 429 and 5xx */
  readonly retryFilter?: (error: unknown) => boolean;
  /** Client-side adaptive throttling, or `false`. @default { windowMs: 60000, bucketMs: 1000, overloadRatio: 2, delayMs: 1000 } */
  readonly throttle?: RemoteThrottleConfig | false;
  /** Requests in flight at once across every batch of this handler (all operators using it). @default Infinity */
  readonly maxConcurrentRequests?: number;
  /** Time limit of one request, in milliseconds; on expiry its signal aborts and it counts as a retryable failure. @default undefined (none) */
  readonly timeoutMs?: number;
  /** Time limit of a whole batch (throttled waits, requests and backoff), in milliseconds. @default undefined (none) */
  readonly deadlineMs?: number;
  /** Scheduler for every wait and clock reading. @default the operator's scheduler (`context.scheduler`) */
  readonly scheduler?: SchedulerLike;
  /** Random source in [0, 1) for backoff jitter and throttling decisions. @default Math.random */
  readonly random?: () => number;
  /** Batching this remote model prefers (e.g. `{ maxBatchSize: 32 }` for an API that caps batch size). @default {} */
  readonly batch?: BatchElementsConfig<In>;
  /**
   * Send elements holding NaN or ±Infinity (as numbers, in float typed arrays, arrays or plain objects). By default
   * such an element fails alone, before any request, with an `InvalidExampleError` naming the field and the index —
   * the rule of every handler; JSON would carry them as `null`. @default false
   */
  readonly allowNonFinite?: boolean;
}

/** Counters of one handler, for monitoring. */
export interface RemoteModelStats {
  /** Requests sent (each attempt counts once; throttled attempts are not sent). */
  readonly requests: number;
  /** Requests that returned a value. */
  readonly successes: number;
  /** Requests that failed (error status, network error, timeout). */
  readonly failedRequests: number;
  /** Retries scheduled after a failed request. */
  readonly retries: number;
  /** Attempts the adaptive throttler rejected locally. */
  readonly throttledRequests: number;
  /** Time spent waiting because of throttling, in milliseconds (Beam's `cumulativeThrottlingSeconds`, in ms). */
  readonly throttledMs: number;
  /** Batches that failed for good. */
  readonly failedBatches: number;
  /** Requests in flight now. */
  readonly inFlight: number;
  /** Most requests in flight at once so far. */
  readonly maxInFlight: number;
  /** Batches waiting for a concurrency slot now. */
  readonly queued: number;
}

/** The client of a handler without `createClient`. */
export interface DefaultRemoteClient {
  readonly modelId: string;
}

/**
 * Runs a model behind a network API (Beam's `RemoteModelHandler`): you write `request(batch, { signal, client })`,
 * the handler adds what calling a remote service needs — retries with exponential backoff and full jitter,
 * `Retry-After`, a per-request timeout and a batch deadline, a cap on concurrent requests, and client-side adaptive
 * throttling (the SRE book's accepts-vs-requests throttler) so that a failing backend is not hammered.
 *
 * Each batch becomes one request (batch your inputs: one call per element wastes quota). The handler emits one
 * `PredictionResult { example, inference, modelId }` per input, `inference` being your request's raw output for it.
 * A batch that still fails after retries fails with a {@link RemoteInferenceError} (an `InferenceError` with the HTTP
 * `status` and the last error as `cause`): in exception mode each of its elements becomes a dead-letter record.
 * Failed batches are not bisected (`bisectOnFailure()` is false): every repeated call costs quota.
 *
 * All waiting (backoff, throttling, timeouts, deadline) goes through `config.scheduler`, else the operator's
 * scheduler: with a `request` that returns arrays or Observables, retries run in virtual time under TestScheduler.
 * Here each request takes 2 ms, the first is answered 503, and the backoff is `random() · initialDelayMs` =
 * 0.5 · 10 ms:
 *
 * ```text
 * source:     -a|
 * request 1:  -^-#                 (HTTP 503)
 * request 2:  --------^-(x|)       x = ['A']
 * result:     ----------(r|)       r = { example: 'a', inference: 'A', modelId: '' }
 * ```
 *
 * Behaviour on unsubscribe: the in-flight request's `signal` aborts, timers are cancelled, a batch waiting for a
 * concurrency slot leaves the queue.
 *
 * @example
 * ```ts
 * import { runInference } from 'rxjs-inference';
 * import { HttpError, RemoteModelHandler } from 'rxjs-inference/handlers';
 *
 * const handler = new RemoteModelHandler<string, number>({
 *   request: async (batch, { signal }) => {
 *     const response = await fetch('http://127.0.0.1:8080/predict', {
 *       method: 'POST', body: JSON.stringify({ inputs: batch }), signal,
 *     });
 *     if (!response.ok) throw await HttpError.fromResponse(response);
 *     return ((await response.json()) as { outputs: number[] }).outputs;
 *   },
 *   retry: { maxAttempts: 4, initialDelayMs: 200 },
 *   maxConcurrentRequests: 4,
 *   timeoutMs: 2000,
 * });
 * texts$.pipe(runInference(handler, { concurrent: 4 })).subscribe((r) => console.log(r.example, r.inference));
 * ```
 */
export class RemoteModelHandler<In, Out, C = DefaultRemoteClient> extends ModelHandler<
  In,
  PredictionResult<In, Out>,
  C
> {
  private readonly config: RemoteModelHandlerConfig<In, Out, C>;
  private readonly retry: ResolvedRetry;
  private readonly throttler: AdaptiveThrottler | undefined;
  private readonly throttleDelayMs: number;
  private readonly semaphore: RequestSemaphore;
  /** The NaN/Infinity check, run after the user's preprocess functions (none with `allowNonFinite`). */
  private readonly checks: readonly PreprocessFn[];
  private readonly counters: RemoteCounters = {
    requests: 0,
    successes: 0,
    failedRequests: 0,
    retries: 0,
    throttledRequests: 0,
    throttledMs: 0,
    failedBatches: 0,
  };

  constructor(config: RemoteModelHandlerConfig<In, Out, C>) {
    super();
    checkObject('config', config);
    checkKnownKeys('the RemoteModelHandler config', config, REMOTE_CONFIG_KEYS);
    if (config === undefined) throw new TypeError('Expected `config` to be an object, got `undefined` (undefined).');
    const { request, createClient, releaseClient, retryFilter, throttle, maxConcurrentRequests } = config;
    if (request === undefined) throw new TypeError('Expected `request` to be a function, got `undefined` (undefined).');
    checkFunction('request', request);
    checkFunction('createClient', createClient);
    checkFunction('releaseClient', releaseClient);
    checkFunction('retryFilter', retryFilter);
    checkFunction('random', config.random);
    checkScheduler('scheduler', config.scheduler);
    checkObject('batch', config.batch);
    checkNumber('maxConcurrentRequests', maxConcurrentRequests, { min: 1, integer: true, allowInfinity: true });
    checkNumber('timeoutMs', config.timeoutMs, { min: 0, exclusiveMin: true });
    checkNumber('deadlineMs', config.deadlineMs, { min: 0, exclusiveMin: true });
    this.checks = resolveAllowNonFinite(config.allowNonFinite, 'allowNonFinite', undefined) ? [] : [rejectNonFinite];
    this.retry = resolveRetry(config.retry);
    if (throttle === false) {
      this.throttler = undefined;
      this.throttleDelayMs = 0;
    } else {
      checkObject('throttle', throttle);
      const { delayMs = 1000, windowMs, bucketMs, overloadRatio } = throttle ?? {};
      checkNumber('throttle.delayMs', delayMs, { min: 0, exclusiveMin: true });
      this.throttler = new AdaptiveThrottler({ windowMs, bucketMs, overloadRatio, random: config.random });
      this.throttleDelayMs = delayMs;
    }
    this.semaphore = new RequestSemaphore(maxConcurrentRequests ?? Infinity);
    this.config = config;
  }

  /** Makes the client with `createClient(modelId)`; without it the client is `{ modelId }`. */
  loadModel(modelId?: string): ModelLoadResult<C> {
    const id = modelId ?? '';
    if (this.config.createClient) return this.config.createClient(id);
    return { modelId: id } as DefaultRemoteClient as C;
  }

  /** Sends the batch (with retries, throttling, timeouts) and wraps each output in a `PredictionResult`. */
  runInference(batch: readonly In[], client: C, context: InferenceContext): Observable<PredictionResult<In, Out>[]> {
    const { request } = this.config;
    const modelId = context.modelId;
    const inferenceArgs = context.inferenceArgs;
    return new Observable<unknown[]>((subscriber) => {
      const call = new RemoteCall(
        {
          send: (attempt, signal) => request(batch, { signal, client, attempt, modelId, inferenceArgs }),
          batchSize: batch.length,
          retry: this.retry,
          retryFilter: this.config.retryFilter ?? isRetryableError,
          throttler: this.throttler,
          throttleDelayMs: this.throttleDelayMs,
          semaphore: this.semaphore,
          timeoutMs: this.config.timeoutMs,
          deadlineMs: this.config.deadlineMs,
          scheduler: this.config.scheduler ?? context.scheduler ?? asyncScheduler,
          random: this.config.random ?? Math.random,
          counters: this.counters,
          signal: context.signal ?? new AbortController().signal,
        },
        subscriber,
      );
      call.start();
      return () => call.cancel();
    }).pipe(
      map((outputs) => outputs.map((inference, i) => ({ example: batch[i], inference: inference as Out, modelId }))),
    );
  }

  /** The NaN/Infinity rule as the last preprocess step (`withPreprocessFn` adds the user's before it). */
  override preprocessFns(): readonly PreprocessFn[] {
    return this.checks;
  }

  override releaseModel(client: C): void | PromiseLike<void> {
    return this.config.releaseClient?.(client);
  }

  override batchConfig(): BatchElementsConfig<any> {
    return this.config.batch ?? {};
  }

  /** Remote calls cost quota: a failed batch is not split and sent again piece by piece. */
  override bisectOnFailure(): boolean {
    return false;
  }

  /** Any inference args are accepted: they are passed to `request` as `inferenceArgs`. */
  override validateInferenceArgs(_args: InferenceArgs | undefined): void {}

  /** Counters of this handler since it was created (all batches, all operators using it). */
  get stats(): RemoteModelStats {
    return {
      ...this.counters,
      inFlight: this.semaphore.inFlight,
      maxInFlight: this.semaphore.maxInFlight,
      queued: this.semaphore.queued,
    };
  }
}

/** Every option of `RemoteModelHandlerConfig`, for the unknown-key check (the compiler keeps it complete). */
const REMOTE_CONFIG_KEYS = {
  request: true,
  createClient: true,
  releaseClient: true,
  retry: true,
  retryFilter: true,
  throttle: true,
  maxConcurrentRequests: true,
  timeoutMs: true,
  deadlineMs: true,
  scheduler: true,
  random: true,
  batch: true,
  allowNonFinite: true,
} as const satisfies Record<keyof RemoteModelHandlerConfig<unknown, unknown, unknown>, true>;
