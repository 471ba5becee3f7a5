import type { RunInferenceConfig } from '../operators/runInference.js';

/** Options of `createPredictor`: those of `runInference` (it owns ordering and cancellation), plus the queue bound. */
export interface PredictorConfig<In = unknown> extends Omit<RunInferenceConfig<In>, 'ordered' | 'elementSignal'> {
  /**
   * Most requests waiting for their answer (queued, or in a batch that is running). Past it `predict` rejects at once
   * with a `QueueFullError` (load shedding, as Triton's `max_queue_size`). @default 10_000
   */
  readonly maxQueuedRequests?: number;
}

/** Options of one `predict` call. */
export interface PredictRequestOptions {
  /** Aborting it rejects the call with the signal's `reason`; while queued, the example is taken out of the queue. */
  readonly signal?: AbortSignal;
  /** Deadline: past it the call rejects with an `InferenceTimeoutError` (taken out of the queue if still there). */
  readonly timeoutMs?: number;
}

/** Request/response over one shared `runInference` pipeline: what `createPredictor` returns. */
export interface Predictor<In, Out> {
  /** Resolves once the model has loaded; rejects if it cannot be (then every `predict` rejects too). */
  readonly ready: Promise<void>;
  /** True while a model is loaded and the predictor accepts requests. */
  readonly isReady: boolean;
  /** Requests waiting for their answer now (queued or in a running batch). */
  readonly queuedRequests: number;
  /**
   * Runs the model on one example, batched with every other call in flight. Resolves with what `runInference`
   * emits for it (after postprocessing); rejects with this element's failure (other calls go on), the signal's reason,
   * an `InferenceTimeoutError` (`timeoutMs`), a `QueueFullError` (`maxQueuedRequests`) or a `PredictorClosedError`.
   */
  predict(example: In, options?: PredictRequestOptions): Promise<Out>;
  /** Stops accepting requests, finishes those already queued, releases the model; resolves when all is done. */
  close(): Promise<void>;
}
