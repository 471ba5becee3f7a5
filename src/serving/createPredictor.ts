import { isLeft } from 'fp-ts/lib/Either.js';
import { asyncScheduler, Subject, type SchedulerLike, type Subscription } from 'rxjs';
import { BufferOverflowError, describeValue, InferenceTimeoutError } from '../core/errors.js';
import { checkNumber, checkObject } from '../core/validate.js';
import type { Counter } from '../metrics/Counter.js';
import { defaultMetricsRegistry } from '../metrics/MetricsRegistry.js';
import { ModelHandler } from '../models/ModelHandler.js';
import { runInference, type HandlerInput, type HandlerOutput } from '../operators/runInference.js';
import { withExceptionHandling } from '../operators/withExceptionHandling.js';
import { checkPredictOptions } from './checkPredictOptions.js';
import type { Predictor, PredictorConfig, PredictRequestOptions } from './Predictor.js';
import { predictorMetrics } from './predictorMetrics.js';
import { PredictorClosedError } from './PredictorClosedError.js';
import { QueueFullError } from './QueueFullError.js';

const DEFAULT_MAX_QUEUED = 10_000;
// Requests that gave up (aborted, timed out) leave the engine's queue when their batch is formed; until then they
// count against the engine's own bound, which is this many times the predictor's.
const ENGINE_QUEUE_FACTOR = 4;

/** One `predict` call until it settles. */
interface Request {
  readonly resolve: (value: any) => void;
  readonly reject: (error: unknown) => void;
  /** Aborted when the caller's signal aborts or the deadline passes: the engine then drops the element. */
  readonly controller: AbortController | undefined;
  done: boolean;
  cleanup: (() => void) | undefined;
}

/**
 * Creates a predictor: `predict(example)` calls from anywhere in a service (HTTP handlers, message consumers) share
 * one `runInference` pipeline, so concurrent calls are batched together — at low load a call waits for one batch,
 * at high load batches grow — as Triton's dynamic batcher or Ray Serve's `@serve.batch` do (SPEC §9).
 *
 * Each call is one element of the stream `withExceptionHandling(runInference(handler, config))`: its result or its
 * own failure record settles its promise, so a failing element rejects only its caller. A call aborted (its
 * `signal`) or past its `timeoutMs` while it waits in the queue is taken out of the queue and never reaches the model
 * (the engine's `elementSignal`); once its batch has been dispatched its result is dropped. Past
 * `maxQueuedRequests` calls waiting, `predict` rejects at once with a `QueueFullError`: the queue never grows
 * unbounded. Deadlines run on `config.scheduler`, so a test drives them in virtual time.
 *
 * With `FakeModelHandler` (`latencyMs: 3`, `run: (x) => x.toUpperCase()`), calls `a` at 0, `b` and `c` at 1:
 *
 * ```text
 * calls:    a(bc)
 * results:  ---A--(BC)     (b and c share the second batch)
 * ```
 *
 * - Metrics (in `config.metrics`, under the handler's namespace): `predictor_queued_requests` (gauge),
 *   `predictor_rejected_requests` (queue full), `predictor_timeouts`, `predictor_aborted_requests`,
 *   `predictor_failed_requests`, next to `runInference`'s own.
 * - `close()`: later calls reject with `PredictorClosedError`; queued calls are answered, then the model is released.
 * - If the pipeline ends with an error (the model cannot load), `ready` and every waiting call reject with it.
 *
 * @example
 * ```ts
 * import { createPredictor, OnnxModelHandler } from 'rxjs-inference';
 *
 * const predictor = createPredictor(new OnnxModelHandler({ modelUri: 'model.onnx' }), { maxQueuedRequests: 1000 });
 * await predictor.ready;
 * const result = await predictor.predict(Float32Array.of(0.1, 0.2), { timeoutMs: 500 });
 * await predictor.close();
 * ```
 *
 * @param handler The model handler (with its pre/post-processing). Not a `withNoBatching()` handler: the predictor
 *   batches calls itself.
 * @param config `runInference`'s options (batching, concurrency, scheduler, model refresh, metrics) and
 *   `maxQueuedRequests`.
 * @returns The predictor; its model starts loading at once.
 */
export function createPredictor<H extends ModelHandler<any, any, any>>(
  handler: H,
  config?: PredictorConfig<HandlerInput<H>>,
): Predictor<HandlerInput<H>, HandlerOutput<H>> {
  if (!(handler instanceof ModelHandler)) {
    throw new TypeError(
      'Expected `handler` to be a ModelHandler (a subclass, or built with modelHandler({...})), got ' +
        `${describeValue(handler)}.`,
    );
  }
  if (handler.skipBatching()) {
    throw new TypeError('createPredictor batches calls itself: pass the handler without withNoBatching().');
  }
  checkObject('config', config);
  const { maxQueuedRequests = DEFAULT_MAX_QUEUED, onModelLoad, ...inferenceConfig } = config ?? {};
  checkNumber('maxQueuedRequests', maxQueuedRequests, { min: 1, integer: true });
  const scheduler: SchedulerLike = config?.scheduler ?? asyncScheduler;
  const metrics = predictorMetrics(config?.metrics ?? defaultMetricsRegistry, handler.getMetricsNamespace());

  // Requests by position in the stream. The pipeline is ordered, so the n-th emission answers the n-th element.
  const requests = new Map<number, Request>();
  let nextIn = 0;
  let nextOut = 0;
  let live = 0;
  let loaded = false;
  let closed = false;
  let fatal: unknown;
  let hasFatal = false;

  let resolveReady!: () => void;
  let rejectReady!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // Awaiting `ready` is optional: a model that cannot load must not also be an unhandled rejection.
  ready.catch(() => undefined);
  let resolveClosed!: () => void;
  const closedPromise = new Promise<void>((resolve) => (resolveClosed = resolve));

  const operator = runInference(handler, {
    ...inferenceConfig,
    maxBufferedElements: inferenceConfig.maxBufferedElements ?? maxQueuedRequests * ENGINE_QUEUE_FACTOR,
    ordered: true,
    elementSignal: (_element, index) => requests.get(index)?.controller?.signal,
    onModelLoad: (modelId) => {
      loaded = true;
      resolveReady();
      onModelLoad?.(modelId);
    },
  });

  /** Settles a request once; later outcomes (a result after an abort) are dropped. */
  const finish = (request: Request): boolean => {
    if (request.done) return false;
    request.done = true;
    request.cleanup?.();
    live--;
    metrics?.queued.set(live);
    return true;
  };

  const input = new Subject<HandlerInput<H>>();
  const subscription: Subscription = input.pipe(withExceptionHandling(operator)).subscribe({
    next: (outcome) => {
      const seq = nextOut++;
      const request = requests.get(seq);
      requests.delete(seq);
      if (request === undefined || !finish(request)) return;
      if (isLeft(outcome)) {
        const error = outcome.left.error;
        metrics?.failed.inc();
        request.reject(
          error instanceof BufferOverflowError
            ? new QueueFullError(
                `The predictor's queue is full (${error.maxBufferedElements} elements, counting requests that gave up ` +
                  'and have not left the queue yet).',
                maxQueuedRequests,
              )
            : error,
        );
      } else {
        request.resolve(outcome.right);
      }
    },
    error: (error: unknown) => end(error),
    complete: () => end(undefined),
  });

  function end(error: unknown): void {
    if (error !== undefined) {
      hasFatal = true;
      fatal = error;
      rejectReady(error);
    } else if (!loaded) {
      rejectReady(new PredictorClosedError('The predictor was closed before its model loaded.'));
    }
    loaded = false;
    const reason = error ?? new PredictorClosedError('The predictor was closed before this request was answered.');
    for (const request of requests.values()) if (finish(request)) request.reject(reason);
    requests.clear();
    resolveClosed();
  }

  function admit(example: HandlerInput<H>, options: PredictRequestOptions | undefined): Promise<unknown> {
    if (closed || hasFatal) {
      return Promise.reject(
        hasFatal
          ? new PredictorClosedError(`The predictor's pipeline failed: ${String((fatal as Error)?.message ?? fatal)}`, {
              cause: fatal,
            })
          : new PredictorClosedError('The predictor is closed: predict() after close().'),
      );
    }
    try {
      checkPredictOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal, timeoutMs } = options ?? {};
    if (signal?.aborted === true) {
      metrics?.aborted.inc();
      return Promise.reject(signal.reason);
    }
    if (live >= maxQueuedRequests) {
      metrics?.rejected.inc();
      return Promise.reject(
        new QueueFullError(
          `${live} requests are already waiting (maxQueuedRequests ${maxQueuedRequests}): try again later.`,
          maxQueuedRequests,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const controller = signal !== undefined || timeoutMs !== undefined ? new AbortController() : undefined;
      const request: Request = { resolve, reject, controller, done: false, cleanup: undefined };
      if (controller !== undefined) {
        const giveUp = (reason: unknown, counter: Counter | undefined): void => {
          if (!finish(request)) return;
          counter?.inc();
          controller.abort(reason);
          reject(reason);
        };
        const onAbort = (): void => giveUp(signal!.reason, metrics?.aborted);
        signal?.addEventListener('abort', onAbort, { once: true });
        const timer =
          timeoutMs === undefined
            ? undefined
            : scheduler.schedule(
                () =>
                  giveUp(
                    new InferenceTimeoutError(
                      `The request took longer than its timeoutMs (${timeoutMs} ms).`,
                      timeoutMs,
                    ),
                    metrics?.timeouts,
                  ),
                timeoutMs,
              );
        request.cleanup = () => {
          signal?.removeEventListener('abort', onAbort);
          timer?.unsubscribe();
        };
      }
      live++;
      metrics?.queued.set(live);
      requests.set(nextIn++, request);
      input.next(example);
    });
  }

  return {
    ready,
    get isReady() {
      return loaded && !closed && !hasFatal;
    },
    get queuedRequests() {
      return live;
    },
    predict: admit as Predictor<HandlerInput<H>, HandlerOutput<H>>['predict'],
    close() {
      if (!closed) {
        closed = true;
        input.complete();
        if (subscription.closed) resolveClosed();
      }
      return closedPromise;
    },
  };
}
