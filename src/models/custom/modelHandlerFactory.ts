import type { BatchElementsConfig } from '../../batching/BatchElementsConfig.js';
import type { InferenceArgs, InferenceContext } from '../../core/types.js';
import { describeValue } from '../../core/errors.js';
import { checkFunction, checkKnownKeys, checkObject } from '../../core/validate.js';
import { ModelHandler, type InferenceResult, type ModelLoadResult } from '../ModelHandler.js';

/**
 * The functions and values a handler is built from by {@link modelHandler}. Only `runInference` is required; every
 * other field replaces the {@link ModelHandler} default of the same name. The functions are declared as methods so
 * that `(batch: number[]) => ...` is accepted where `readonly number[]` is passed (the batch is never mutated).
 */
export interface ModelHandlerConfig<In, Out, M = undefined> {
  /**
   * Loads the model (`modelId` and the optional abort `signal` as in `ModelHandler.loadModel`): the model, a Promise of it, or an Observable whose
   * first value is the model. Omit it for "models" that need no loading (a pure function, a remote endpoint whose
   * client lives in a closure): the model is then `undefined`.
   * @default () => undefined
   */
  loadModel?(modelId?: string, signal?: AbortSignal): ModelLoadResult<M>;
  /** Runs the model on a batch: exactly one output per input, in input order (an array, a Promise or an Observable). */
  runInference(batch: readonly In[], model: M, context: InferenceContext): InferenceResult<Out>;
  /** Frees a model when it is replaced or the stream ends. @default does nothing */
  releaseModel?(model: M): void | PromiseLike<void>;
  /** Size in bytes of a batch, for the `inference_request_batch_byte_size` metric. @default a rough estimate */
  getNumBytes?(batch: readonly In[]): number;
  /** Metrics namespace, as a value or a function. @default 'RunInference' */
  readonly getMetricsNamespace?: string | (() => string);
  /** Preferred batching parameters (Beam's `batch_elements_kwargs`), as a value or a function. @default {} */
  readonly batchConfig?: BatchElementsConfig<In> | (() => BatchElementsConfig<In>);
  /** Rejects inference args the model cannot take (throw to reject). @default rejects any non-empty args */
  validateInferenceArgs?(args: InferenceArgs | undefined): void;
  /** Id of the model loaded when the side input says `''`, as a value or a function. @default '' */
  readonly defaultModelId?: string | (() => string);
  /** Whether a failed batch may be split to find the failing element, as a value or a function. @default true */
  readonly bisectOnFailure?: boolean | (() => boolean);
}

/**
 * Builds a {@link ModelHandler} from functions (Beam's "custom models"), for models that need no class of their own.
 *
 * `runInference` is required; `loadModel` may be omitted, in which case the model is `undefined` and
 * `runInference` gets `undefined` as its model. The fields that are plain settings (`getMetricsNamespace`,
 * `batchConfig`, `defaultModelId`, `bisectOnFailure`) may be given as values or as functions. The config is
 * validated here: a field of the wrong type throws a `TypeError` that names it.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { modelHandler, runInference } from 'rxjs-inference';
 *
 * const plusOne = modelHandler({
 *   loadModel: () => ({ offset: 1 }),
 *   runInference: (batch: readonly number[], model) => batch.map((x) => x + model.offset),
 * });
 * from([1, 5, 3, 10]).pipe(runInference(plusOne)).subscribe(console.log); // 2, 6, 4, 11
 * ```
 *
 * @param config - the functions and settings of the handler.
 * @returns a new, immutable handler.
 */
export function modelHandler<In, Out, M = undefined>(config: ModelHandlerConfig<In, Out, M>): ModelHandler<In, Out, M> {
  if (config === null || typeof config !== 'object') {
    throw new TypeError(`Expected the \`modelHandler\` config to be an object, got ${describeValue(config)}.`);
  }
  if (typeof config.runInference !== 'function') {
    throw new TypeError(`Expected \`runInference\` to be a function, got ${describeValue(config.runInference)}.`);
  }
  checkFunction('loadModel', config.loadModel);
  checkKnownKeys('the modelHandler config', config, MODEL_HANDLER_CONFIG_KEYS);
  checkFunction('releaseModel', config.releaseModel);
  checkFunction('getNumBytes', config.getNumBytes);
  checkFunction('validateInferenceArgs', config.validateInferenceArgs);
  checkValueOrFunction('getMetricsNamespace', config.getMetricsNamespace, 'string', 'a string or a function');
  checkValueOrFunction('defaultModelId', config.defaultModelId, 'string', 'a string or a function');
  checkValueOrFunction('bisectOnFailure', config.bisectOnFailure, 'boolean', 'a boolean or a function');
  if (typeof config.batchConfig !== 'function') checkObject('batchConfig', config.batchConfig);
  return new FunctionModelHandler<In, Out, M>({ ...config });
}

function checkValueOrFunction(field: string, value: unknown, type: 'string' | 'boolean', expected: string): void {
  if (value !== undefined && typeof value !== type && typeof value !== 'function') {
    throw new TypeError(`Expected \`${field}\` to be ${expected}, got ${describeValue(value)}.`);
  }
}

function resolve<T>(value: T | (() => T)): T {
  return typeof value === 'function' ? (value as () => T)() : value;
}

/** The handler {@link modelHandler} returns: every method defers to the config, or to the base class default. */
class FunctionModelHandler<In, Out, M> extends ModelHandler<In, Out, M> {
  constructor(private readonly config: ModelHandlerConfig<In, Out, M>) {
    super();
  }
  loadModel(modelId?: string, signal?: AbortSignal): ModelLoadResult<M> {
    return this.config.loadModel === undefined ? (undefined as M) : this.config.loadModel(modelId, signal);
  }
  runInference(batch: readonly In[], model: M, context: InferenceContext): InferenceResult<Out> {
    return this.config.runInference(batch, model, context);
  }
  override releaseModel(model: M): void | PromiseLike<void> {
    return this.config.releaseModel?.(model);
  }
  override getNumBytes(batch: readonly In[]): number {
    return this.config.getNumBytes === undefined ? super.getNumBytes(batch) : this.config.getNumBytes(batch);
  }
  override getMetricsNamespace(): string {
    const { getMetricsNamespace } = this.config;
    return getMetricsNamespace === undefined ? super.getMetricsNamespace() : resolve(getMetricsNamespace);
  }
  override batchConfig(): BatchElementsConfig<any> {
    const { batchConfig } = this.config;
    return batchConfig === undefined ? super.batchConfig() : resolve(batchConfig);
  }
  override validateInferenceArgs(args: InferenceArgs | undefined): void {
    if (this.config.validateInferenceArgs === undefined) super.validateInferenceArgs(args);
    else this.config.validateInferenceArgs(args);
  }
  override defaultModelId(): string {
    const { defaultModelId } = this.config;
    return defaultModelId === undefined ? super.defaultModelId() : resolve(defaultModelId);
  }
  override bisectOnFailure(): boolean {
    const { bisectOnFailure } = this.config;
    return bisectOnFailure === undefined ? super.bisectOnFailure() : resolve(bisectOnFailure);
  }
}

/** Every option of `ModelHandlerConfig`, for the unknown-key check (the compiler keeps it complete). */
const MODEL_HANDLER_CONFIG_KEYS = {
  loadModel: true,
  runInference: true,
  releaseModel: true,
  getNumBytes: true,
  getMetricsNamespace: true,
  batchConfig: true,
  validateInferenceArgs: true,
  defaultModelId: true,
  bisectOnFailure: true,
} as const satisfies Record<keyof ModelHandlerConfig<unknown, unknown, unknown>, true>;
