import { asapScheduler, asyncScheduler, from, Observable, type ObservableInput, type SchedulerLike } from 'rxjs';
import type { BatchElementsConfig } from '../batching/BatchElementsConfig.js';
import { mergeBatchConfig, resolveBatchConfig } from '../batching/resolveBatchConfig.js';
import { describeValue, type ModelLoadError } from '../core/errors.js';
import type { InferenceArgs, ModelUpdate } from '../core/types.js';
import {
  checkBoolean,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  checkObject,
  checkScheduler,
} from '../core/validate.js';
import type { EngineMode } from '../engine/Emitter.js';
import type { EngineOptions } from '../engine/EngineOptions.js';
import { InferenceEngine } from '../engine/InferenceEngine.js';
import type { TracerLike } from '../engine/BatchSpan.js';
import { defaultMetricsRegistry, type MetricsRegistry } from '../metrics/MetricsRegistry.js';
import { RunInferenceMetrics } from '../metrics/RunInferenceMetrics.js';
import { ModelHandler } from '../models/ModelHandler.js';
import { exceptionAwareStage, type ExceptionAwareStage, type ExceptionModeConfig } from './ExceptionAwareStage.js';

export type { ExceptionModeConfig } from './ExceptionAwareStage.js';

/** Options of `runInference`. Every field is optional. */
export interface RunInferenceConfig<In = unknown> {
  /** Emit results in input order; `false` emits them as batches complete. @default true */
  readonly ordered?: boolean;
  /**
   * Batches in flight at once (as in `mergeMap`). @default the handler's `concurrency()`: 1, except for
   * `OnnxWorkerModelHandler` (two per worker thread, so each worker holds its next batch while it runs one)
   */
  readonly concurrent?: number;
  /**
   * Most elements queued (waiting for a batch slot or for the model). Past it, an element fails with a
   * `BufferOverflowError`: the stream errors, or (under `withExceptionHandling`) the element becomes a failure
   * record. The default admits a synchronous source of a million elements. @default 1_048_576
   */
  readonly maxBufferedElements?: number;
  /** Batching overrides, field by field over the handler's `batchConfig()` (a handler's `batchKeyFn` always applies). */
  readonly batch?: BatchElementsConfig<In>;
  /** Scheduler for every timer (time bounds, timeouts) and for the metrics clock. @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
  /**
   * Side input naming the model (typically a `BehaviorSubject<ModelMetadata>`), read AsSingleton-style: the latest
   * value counts; main-input elements are held until the first value. @default the handler's default model
   */
  readonly modelMetadata?: ObservableInput<ModelUpdate>;
  /** Operators naming the same identifier share one loaded model per model id (Beam's `Shared`). @default not shared */
  readonly modelIdentifier?: string;
  /** Passed to every `handler.runInference` call; validated by the handler when the operator is created. */
  readonly inferenceArgs?: InferenceArgs;
  /** A batch (or a model load) taking longer than this fails with an `InferenceTimeoutError`. @default no limit */
  readonly timeoutMs?: number;
  /** Called when a refreshed model fails to load (the previous model keeps serving). */
  readonly onModelLoadError?: (error: ModelLoadError, metadata: ModelUpdate) => void;
  /** Called each time a model has loaded and starts serving (the first one, then every refresh), with its id. */
  readonly onModelLoad?: (modelId: string) => void;
  /** Where metrics go; `false` records none. @default defaultMetricsRegistry */
  readonly metrics?: MetricsRegistry | false;
  /**
   * Cancellation per element: called with an element (as it entered, before preprocessing) and its position in the
   * stream when its batch is formed. An element whose signal has aborted by then is taken out of the batch — the model
   * never sees it — and fails with the signal's `reason`: the stream errors, or (under `withExceptionHandling`) it
   * becomes a failure record (stage `'inference'`). Once its batch is dispatched, its signal is no longer read.
   * `createPredictor` uses it for requests aborted or past their deadline while queued. @default no cancellation
   */
  readonly elementSignal?: (element: In, index: number) => AbortSignal | undefined;
  /**
   * An OpenTelemetry tracer (`trace.getTracer('my-service')`, typed structurally): one span `rxjs-inference batch` per
   * model call, with the attributes `rxjs_inference.model_id`, `rxjs_inference.batch_size` and
   * `rxjs_inference.outcome` (`ok`, `error` with the exception recorded, `aborted` on unsubscribe). @default no spans
   */
  readonly tracer?: TracerLike;
}

/** A `runInference` operator: a plain `OperatorFunction` that `withExceptionHandling` can run with failures as values. */
export type RunInferenceOperator<In, Out> = ExceptionAwareStage<In, Out>;

/** Input type of a handler (after composition: what goes in before preprocessing). */
export type HandlerInput<H> = H extends ModelHandler<infer In, any, any> ? In : never;
/** Output type of a handler (after composition: what comes out after postprocessing). */
export type HandlerOutput<H> = H extends ModelHandler<any, infer Out, any> ? Out : never;

const DEFAULT_MAX_BUFFERED = 1_048_576;

/**
 * Runs a model over a stream: batches elements adaptively, runs the handler's model on each batch and emits one
 * result per input element (Beam's `RunInference`).
 *
 * Each element goes through the handler's preprocess functions, waits in a bounded queue, is batched, runs on the
 * model, is split back out and goes through the postprocess functions. While `concurrent` batches are in flight,
 * arriving elements queue; when a slot frees, the next batch takes what is queued (up to the estimator's target
 * size). So at low load latency is one batch, and at high load batches grow, with no timer needed. Results come out
 * exactly as the handler returned them (the given handlers return `PredictionResult`s), in input order unless
 * `ordered: false`.
 *
 * The model is loaded at subscription (or when `modelMetadata` first has a value), shared with other operators that
 * name the same `modelIdentifier`, swapped in the background when `modelMetadata` names a new one, and released
 * when the stream completes, errors or is unsubscribed — before the notification goes downstream.
 *
 * With a model taking 3 ms per batch (`FakeModelHandler`, `latencyMs: 3`, `run: (x) => x.toUpperCase()`):
 *
 * ```text
 * source:  -a-b-c-|
 * result:  ----A--B--(C|)
 * ```
 *
 * - Complete: queued and in-flight work is finished and emitted, the model released, then completion.
 * - Error: the first failure (a preprocess/postprocess function throwing, a failed batch, a handler returning the
 *   wrong number of results, a model that cannot load, a source error) releases the model and errors the stream —
 *   after every earlier result when `ordered`. Wrap in `withExceptionHandling` to get failures as values instead.
 * - Unsubscribe: queued work is dropped, in-flight batches are aborted through `context.signal`, timers are
 *   cancelled and the model released.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { runInference } from 'rxjs-inference';
 * import { modelHandler } from 'rxjs-inference/handlers';
 *
 * const addOne = modelHandler({ loadModel: () => 1, runInference: (batch: number[], inc: number) => batch.map((x) => x + inc) });
 * from([1, 5, 3, 10]).pipe(runInference(addOne)).subscribe(console.log); // 2, 6, 4, 11
 * ```
 *
 * @param handler The model handler (with its pre/post-processing).
 * @param config Options: ordering, concurrency, batching, scheduler, side input, timeouts, metrics.
 * @returns An operator emitting one result per input element.
 */
export function runInference<H extends ModelHandler<any, any, any>>(
  handler: H,
  config?: RunInferenceConfig<any>,
): RunInferenceOperator<HandlerInput<H>, HandlerOutput<H>> {
  const resolve = prepare(handler, config);
  const operator = (source: Observable<HandlerInput<H>>): Observable<HandlerOutput<H>> =>
    engineOperator(resolve('throw', {}), source);
  return exceptionAwareStage(
    operator,
    (exceptionConfig) => (source: Observable<HandlerInput<H>>) =>
      engineOperator(resolve('either', exceptionConfig), source),
  );
}

/** Runs one engine per subscription (shared with `streamInference`). */
export function engineOperator(options: EngineOptions, source: Observable<unknown>): Observable<any> {
  return new Observable<unknown>((subscriber) => {
    new InferenceEngine(options, subscriber).start(source);
  });
}

/** Validates everything at construction and returns a factory of engine options per mode (shared with `streamInference`). */
export function prepare(
  handler: ModelHandler<any, any, any>,
  config: RunInferenceConfig<any> | undefined,
): (mode: EngineMode, exceptionConfig: ExceptionModeConfig) => EngineOptions {
  if (!(handler instanceof ModelHandler)) {
    throw new TypeError(
      'Expected `handler` to be a ModelHandler (a subclass, or built with modelHandler({...})), got ' +
        `${describeValue(handler)}.`,
    );
  }
  checkObject('config', config);
  checkKnownKeys('the runInference config', config, RUN_INFERENCE_CONFIG_KEYS);
  const {
    ordered = true,
    concurrent = handler.concurrency(),
    maxBufferedElements = DEFAULT_MAX_BUFFERED,
    batch,
    scheduler,
    modelMetadata,
    modelIdentifier,
    inferenceArgs,
    timeoutMs,
    onModelLoadError,
    onModelLoad,
    metrics = defaultMetricsRegistry,
    elementSignal,
    tracer,
  } = config ?? {};
  if (tracer !== undefined && (tracer === null || typeof (tracer as TracerLike).startSpan !== 'function')) {
    throw new TypeError(
      `Expected \`tracer\` to be an OpenTelemetry Tracer (with startSpan()), got ${describeValue(tracer)}.`,
    );
  }
  checkBoolean('ordered', ordered);
  checkNumber('concurrent', concurrent, { min: 1, integer: true });
  checkNumber('maxBufferedElements', maxBufferedElements, { min: 1, integer: true });
  checkNumber('timeoutMs', timeoutMs, { min: 0, exclusiveMin: true });
  checkScheduler('scheduler', scheduler);
  checkFunction('onModelLoadError', onModelLoadError);
  checkFunction('elementSignal', elementSignal);
  checkFunction('onModelLoad', onModelLoad);
  checkObject('inferenceArgs', inferenceArgs);
  if (modelIdentifier !== undefined && typeof modelIdentifier !== 'string') {
    throw new TypeError(`Expected \`modelIdentifier\` to be a string, got ${describeValue(modelIdentifier)}.`);
  }
  if (modelMetadata !== undefined && (modelMetadata === null || typeof modelMetadata !== 'object')) {
    throw new TypeError(
      `Expected \`modelMetadata\` to be an Observable (e.g. a BehaviorSubject<ModelMetadata>), got ${describeValue(modelMetadata)}.`,
    );
  }
  if (metrics !== false && (metrics === null || typeof metrics !== 'object' || typeof metrics.counter !== 'function')) {
    throw new TypeError(`Expected \`metrics\` to be a MetricsRegistry or false, got ${describeValue(metrics)}.`);
  }
  handler.validateInferenceArgs(inferenceArgs);
  const resolvedBatch = resolveBatchConfig(
    mergeBatchConfig(handler.batchConfig(), scheduler === undefined ? batch : { scheduler, ...batch }),
  );
  const timers = scheduler ?? resolvedBatch.scheduler;
  const clockScheduler = scheduler ?? (batch?.scheduler as SchedulerLike | undefined);
  const clock = clockOf(clockScheduler);
  const metricsRecorder =
    metrics === false ? undefined : new RunInferenceMetrics(metrics, handler.getMetricsNamespace());
  const sideInput = modelMetadata === undefined ? undefined : from(modelMetadata);
  return (mode, exceptionConfig) => ({
    handler,
    mode,
    ordered,
    concurrent,
    maxBufferedElements,
    batch: resolvedBatch,
    scheduler: timers,
    burstScheduler: scheduler ?? (batch?.scheduler as SchedulerLike | undefined) ?? asapScheduler,
    clock,
    schedulerClock: clockScheduler !== undefined && clockScheduler !== asyncScheduler,
    modelMetadata: sideInput,
    modelIdentifier,
    inferenceArgs,
    timeoutMs,
    onModelLoadError,
    onModelLoad,
    metrics: metricsRecorder,
    tracer,
    bisect: exceptionConfig.bisect ?? handler.bisectOnFailure(),
    elementSignal,
  });
}

/**
 * The clock for latencies: the given scheduler's (virtual time in tests); without one, `performance.now()`, whose
 * sub-millisecond resolution the batch-size estimator needs for fast models (`asyncScheduler.now()` is `Date.now()`).
 */
function clockOf(scheduler: SchedulerLike | undefined): () => number {
  if (scheduler !== undefined && scheduler !== asyncScheduler) return () => scheduler.now();
  return () => performance.now();
}

/** Every option of `RunInferenceConfig`, for the unknown-key check (the compiler keeps it complete). */
const RUN_INFERENCE_CONFIG_KEYS = {
  ordered: true,
  concurrent: true,
  maxBufferedElements: true,
  batch: true,
  scheduler: true,
  modelMetadata: true,
  modelIdentifier: true,
  inferenceArgs: true,
  timeoutMs: true,
  onModelLoadError: true,
  onModelLoad: true,
  metrics: true,
  elementSignal: true,
  tracer: true,
} as const satisfies Record<keyof RunInferenceConfig, true>;
