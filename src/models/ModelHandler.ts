import type { Observable, ObservableInput } from 'rxjs';
import type { PartialOutput } from '../core/PartialOutput.js';
import type { BatchElementsConfig } from '../batching/BatchElementsConfig.js';
import type { InferenceArgs, InferenceContext, ModelMetadata, ModelUpdate } from '../core/types.js';

/** What `loadModel` may return: the model, a promise of it, or an Observable (its first value). */
export type ModelLoadResult<M> = M | PromiseLike<M> | ObservableInput<M>;

/**
 * What `runInference` may return: one output per input, in input order, now or later. An Observable may also emit
 * `PartialOutput`s (e.g. tokens) before the results; `streamInference` delivers them, `runInference` ignores them.
 */
export type InferenceResult<Out> = readonly Out[] | ObservableInput<readonly Out[] | PartialOutput>;

/** A preprocessing function (Beam's `with_preprocess_fn`). */
export type PreprocessFn = (element: any) => unknown;
/** A postprocessing function (Beam's `with_postprocess_fn`). */
export type PostprocessFn = (result: any) => unknown;

/**
 * Knows how to load one kind of model and run it on a batch (Beam's `ModelHandler`).
 *
 * A subclass implements `loadModel` and `runInference`; everything else has a default. Handlers are immutable:
 * `withPreprocessFn`, `withPostprocessFn` and `withNoBatching` return new handlers.
 *
 * @typeParam In - the element type the operator accepts (after composition: before preprocessing).
 * @typeParam Out - the element type the operator emits (after composition: after postprocessing).
 * @typeParam M - the loaded model.
 */
export abstract class ModelHandler<In, Out, M = unknown> {
  /**
   * Loads the model. `modelId` comes from the side input: `undefined` (or `''`, mapped by the engine to
   * `defaultModelId()`) means the handler's own default model. May return synchronously, a Promise, or an
   * Observable (its first value is the model; an Observable that takes time on a TestScheduler keeps a whole
   * pipeline in virtual time).
   *
   * `signal` (optional to honour) aborts when the load is no longer wanted: a refresh superseded by a newer one while
   * an older model serves, a load past `timeoutMs`, or the stream ending first. A handler that honours it stops
   * loading and frees what it started (the ONNX worker handler terminates the pool it is starting); one that ignores
   * it still works — a model it delivers after the abort is released at once and never serves. An aborted load is
   * never reported as a load error.
   */
  abstract loadModel(modelId?: string, signal?: AbortSignal): ModelLoadResult<M>;

  /**
   * Runs the model on a batch: exactly one output per input, in input order. A result of another length fails
   * the batch. `context.signal` aborts when the subscriber unsubscribes or the batch times out.
   */
  abstract runInference(batch: readonly In[], model: M, context: InferenceContext): InferenceResult<Out>;

  /** Frees a model when it is replaced or the stream ends (native memory, sessions, tensors). */
  releaseModel(_model: M): void | PromiseLike<void> {}

  /** Size in bytes of a batch, for the `inference_request_batch_byte_size` metric. */
  getNumBytes(batch: readonly In[]): number {
    return estimateBytes(batch);
  }

  /** Metrics namespace. @default 'RunInference' */
  getMetricsNamespace(): string {
    return 'RunInference';
  }

  /** Batching parameters this handler prefers (Beam's `batch_elements_kwargs`); a `batchKeyFn` here always applies. */
  batchConfig(): BatchElementsConfig<any> {
    return {};
  }

  /** Rejects inference args this handler cannot take; called at operator construction. Default: none allowed. */
  validateInferenceArgs(args: InferenceArgs | undefined): void {
    if (args !== undefined && Object.keys(args).length > 0) {
      throw new TypeError(
        `${this.constructor.name} takes no inference args, got \`${Object.keys(args).join('`, `')}\`. ` +
          'Override validateInferenceArgs() in a handler that uses them.',
      );
    }
  }

  /** Id of the model loaded when the side input says `''` (or there is no side input). @default '' */
  defaultModelId(): string {
    return '';
  }

  /** Whether a failed batch may be split to find the failing element (exception mode). @default true */
  bisectOnFailure(): boolean {
    return true;
  }

  /**
   * Batches this handler can usefully have in flight at once: `runInference`'s (and `streamInference`'s) `concurrent`
   * when the config leaves it out. A handler that runs its model off the main thread (`OnnxWorkerModelHandler`) asks
   * for more than one, so that the next batch is checked and stacked while the model runs. @default 1
   */
  concurrency(): number {
    return 1;
  }

  /**
   * Loads the model a side-input value names. Plain handlers take `ModelMetadata` (`''` = default model); keyed
   * multi-model handlers take `KeyModelPathMapping[]`. `signal` as for `loadModel`.
   */
  loadModelFor(update: ModelUpdate, signal?: AbortSignal): ModelLoadResult<M> {
    if (Array.isArray(update)) {
      throw new TypeError(
        `${this.constructor.name} takes ModelMetadata updates; KeyModelPathMapping[] is only for a multi-model KeyedModelHandler.`,
      );
    }
    const id = (update as ModelMetadata).modelId;
    return this.loadModel(id === '' ? this.defaultModelId() || undefined : id, signal);
  }

  /** The id a side-input value resolves to (`''` → `defaultModelId()`), used in results and metrics. */
  modelIdFor(update: ModelUpdate): string {
    if (Array.isArray(update)) return update.map((m) => `${m.modelId ?? String(m.keys[0])}=${m.updatePath}`).join(',');
    const id = (update as ModelMetadata).modelId;
    return id === '' ? this.defaultModelId() : id;
  }

  /**
   * Metrics prefix for a batch (`'<group>-'` for a key group of a multi-model keyed handler), or `undefined` for the
   * operator's own prefix. Batches never mix groups when the handler's `batchConfig().batchKeyFn` keys by group.
   */
  metricsPrefixFor(_batch: readonly In[]): string | undefined {
    return undefined;
  }

  /** Preprocessing functions in execution order (the last added runs first). */
  preprocessFns(): readonly PreprocessFn[] {
    return [];
  }

  /** Postprocessing functions in execution order (the first added runs first). */
  postprocessFns(): readonly PostprocessFn[] {
    return [];
  }

  /** True when elements are already batches (arrays) and must not be batched again. */
  skipBatching(): boolean {
    return false;
  }

  /**
   * A handler that runs `fn` on each element before this one's preprocessing. `fn` may return the value, a Promise of
   * it, or an Observable (its first value counts): an Observable stays on its own scheduler, so an asynchronous
   * preprocess (a lookup) keeps a TestScheduler's virtual time, where a Promise settles outside it.
   */
  withPreprocessFn<P>(fn: (element: P) => In | PromiseLike<In> | Observable<In>): ModelHandler<P, Out, M> {
    return composeHandler<P, Out, M>(this, { pre: [fn as PreprocessFn, ...this.preprocessFns()] });
  }

  /** A handler that runs `fn` on each result after this one's postprocessing (a value, Promise or Observable, as above). */
  withPostprocessFn<O>(fn: (result: Out) => O | PromiseLike<O> | Observable<O>): ModelHandler<In, O, M> {
    return composeHandler<In, O, M>(this, { post: [...this.postprocessFns(), fn as PostprocessFn] });
  }

  /** A handler whose elements are already batches: no batching is done and results are emitted flattened. */
  withNoBatching(): ModelHandler<readonly In[], Out, M> {
    return composeHandler<readonly In[], Out, M>(this, { noBatching: true });
  }
}

/** Rough byte size of a batch: typed arrays by `byteLength`, strings by length, numbers as 8 bytes. */
export function estimateBytes(batch: readonly unknown[]): number {
  let total = 0;
  for (const x of batch) total += estimateValueBytes(x, 0);
  return total;
}

function estimateValueBytes(x: unknown, depth: number): number {
  if (x === null || x === undefined) return 0;
  if (typeof x === 'number') return 8;
  if (typeof x === 'boolean') return 1;
  if (typeof x === 'bigint') return 8;
  if (typeof x === 'string') return x.length;
  if (ArrayBuffer.isView(x)) return x.byteLength;
  if (x instanceof ArrayBuffer) return x.byteLength;
  if (depth > 4 || typeof x !== 'object') return 0;
  let total = 0;
  if (Array.isArray(x)) {
    for (const v of x) total += estimateValueBytes(v, depth + 1);
    return total;
  }
  const data = (x as { data?: unknown }).data;
  if (data !== undefined && (ArrayBuffer.isView(data) || Array.isArray(data)))
    return estimateValueBytes(data, depth + 1);
  for (const v of Object.values(x as object)) total += estimateValueBytes(v, depth + 1);
  return total;
}

interface Composition {
  readonly pre?: readonly PreprocessFn[];
  readonly post?: readonly PostprocessFn[];
  readonly noBatching?: boolean;
}

/**
 * A handler that forwards every model hook (load, run, release, sizes, metrics, batching, inference args, default
 * model, bisection, refresh, metrics prefix) to `base`. Composition, `KeyedModelHandler` and its single-model form build on it.
 * Pre/post-processing and the batching flag stay this handler's own (the defaults, unless a subclass overrides them).
 * Public: extend it to wrap a handler and override only the hooks you change (e.g. `loadModel` to cache or preload
 * models — the CLI's `PreloadingModelHandler` does that); `base` is the wrapped handler.
 */
export abstract class DelegatingModelHandler<In, Out, M> extends ModelHandler<In, Out, M> {
  constructor(protected readonly base: ModelHandler<any, any, M>) {
    super();
  }
  loadModel(modelId?: string, signal?: AbortSignal): ModelLoadResult<M> {
    return this.base.loadModel(modelId, signal);
  }
  runInference(batch: readonly In[], model: M, context: InferenceContext): InferenceResult<Out> {
    return this.base.runInference(batch, model, context);
  }
  override releaseModel(model: M): void | PromiseLike<void> {
    return this.base.releaseModel(model);
  }
  override getNumBytes(batch: readonly In[]): number {
    return this.base.getNumBytes(batch);
  }
  override getMetricsNamespace(): string {
    return this.base.getMetricsNamespace();
  }
  override batchConfig(): BatchElementsConfig<any> {
    return this.base.batchConfig();
  }
  override validateInferenceArgs(args: InferenceArgs | undefined): void {
    this.base.validateInferenceArgs(args);
  }
  override defaultModelId(): string {
    return this.base.defaultModelId();
  }
  override bisectOnFailure(): boolean {
    return this.base.bisectOnFailure();
  }
  override concurrency(): number {
    return this.base.concurrency();
  }
  override loadModelFor(update: ModelUpdate, signal?: AbortSignal): ModelLoadResult<M> {
    return this.base.loadModelFor(update, signal);
  }
  override modelIdFor(update: ModelUpdate): string {
    return this.base.modelIdFor(update);
  }
  override metricsPrefixFor(batch: readonly In[]): string | undefined {
    return this.base.metricsPrefixFor(batch);
  }
}

/** A handler that delegates everything to `base` but carries its own pre/post-processing and batching flag. */
class ComposedModelHandler<In, Out, M> extends DelegatingModelHandler<In, Out, M> {
  constructor(
    base: ModelHandler<any, any, M>,
    private readonly pre: readonly PreprocessFn[],
    private readonly post: readonly PostprocessFn[],
    private readonly noBatching: boolean,
  ) {
    super(base);
  }
  override preprocessFns(): readonly PreprocessFn[] {
    return this.pre;
  }
  override postprocessFns(): readonly PostprocessFn[] {
    return this.post;
  }
  override skipBatching(): boolean {
    return this.noBatching;
  }
  /** The handler this one decorates. */
  unwrap(): ModelHandler<any, any, M> {
    return this.base;
  }
}

function composeHandler<In, Out, M>(handler: ModelHandler<any, any, M>, change: Composition): ModelHandler<In, Out, M> {
  const base = handler instanceof ComposedModelHandler ? handler.unwrap() : handler;
  return new ComposedModelHandler<In, Out, M>(
    base,
    change.pre ?? handler.preprocessFns(),
    change.post ?? handler.postprocessFns(),
    change.noBatching ?? handler.skipBatching(),
  );
}
