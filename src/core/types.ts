import type { SchedulerLike } from 'rxjs';

/** One element's result: the input as given to the model, its share of the output, and the model's id. */
export interface PredictionResult<E, I> {
  /** The input element, as given to the model (after preprocessing). */
  readonly example: E;
  /** This element's share of the model output. */
  readonly inference: I;
  /** Id of the model that produced it. */
  readonly modelId?: string;
}

/** Names a model to load: the value of the `modelMetadata` side input. */
export interface ModelMetadata {
  /** Path or URL the handler can load; `''` means "the handler's default model". */
  readonly modelId: string;
  /** Human-readable name, used as a metrics prefix. */
  readonly modelName: string;
}

/** A per-key-group model update for a multi-model `KeyedModelHandler`. */
export interface KeyModelPathMapping<K> {
  /** The keys whose model this mapping sets. */
  readonly keys: readonly K[];
  /** Path or URL of the model for these keys. */
  readonly updatePath: string;
  /** Optional id (metrics prefix) for this group; defaults to the first key. */
  readonly modelId?: string;
}

/** A value of the `modelMetadata` side input. */
export type ModelUpdate = ModelMetadata | readonly KeyModelPathMapping<unknown>[];

/** Extra keyword arguments for a model call (Beam's `inference_args`). */
export type InferenceArgs = Readonly<Record<string, unknown>>;

/** What a handler's `runInference` is told besides the batch and the model. */
export interface InferenceContext {
  /** The operator's `inferenceArgs` (validated by the handler at construction). */
  readonly inferenceArgs: InferenceArgs | undefined;
  /** Id of the model this batch runs on. */
  readonly modelId: string;
  /** Fires when the subscriber unsubscribes or the batch times out. */
  readonly signal: AbortSignal;
  /** The operator's scheduler: handlers that wait (retries, fakes) wait on it. */
  readonly scheduler: SchedulerLike;
}

/** Where an element failed. */
export type FailureStage = 'preprocess' | 'inference' | 'postprocess' | 'stage';

/** A failure turned into a value (the `Left` side of `withExceptionHandling`). */
export interface FailedRecord<E = unknown> {
  /** The step that failed. */
  readonly stage: FailureStage;
  /**
   * Which preprocess or postprocess function failed, in execution order (Beam's `failed_preprocessing[i]`);
   * `0` for `'inference'` and `'stage'`.
   */
  readonly index: number;
  /** The value that entered the failing step. */
  readonly element: E;
  /** The error, with the original (when it was not an `Error`, or was wrapped) kept as `cause`. */
  readonly error: Error;
  /** For inference failures: the batch the element was in (as given to the model). */
  readonly batch?: readonly unknown[];
  /** For inference and postprocess failures: the model the batch ran on. */
  readonly modelId?: string;
}
