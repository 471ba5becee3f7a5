import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { InferenceContext } from '../../core/types.js';
import type { OrtModule } from './onnxSession.js';

/** What an `inferenceFn` is given besides the session and the feeds. */
export interface OnnxInferenceContext extends InferenceContext {
  /** The `onnxruntime-node` module of the thread the function runs in (to build tensors). */
  readonly ort: OrtModule;
  /** The handler's `runOptions`, to pass to `session.run`. */
  readonly runOptions: InferenceSession.RunOptions | undefined;
  /** The outputs the handler will split per element: the function must return at least these. */
  readonly outputNames: readonly string[];
  /**
   * Emits a partial output (e.g. a generated token) of row `row` of the feeds. `streamInference` delivers it to
   * that element's subscriber as it comes; `runInference` ignores it. Values must be structured-cloneable in a
   * worker (numbers, strings, typed arrays…).
   */
  emitPartial(row: number, value: unknown): void;
}

/**
 * Replaces the one `session.run` per batch of the ONNX handlers (Beam's `inference_fn`): receives the session, the
 * stacked feeds (batch axis first) and the context, and returns the outputs to split per element (each with the
 * batch axis first, at least `context.outputNames`). For example a generation loop (`onnxGenerate`).
 */
export type OnnxInferenceFn = (
  session: InferenceSession,
  feeds: Record<string, Tensor>,
  context: OnnxInferenceContext,
) => Promise<Record<string, Tensor>> | Record<string, Tensor>;

/** An `inferenceFn` that also names the outputs it returns (the handler splits these unless `outputNames` is set). */
export interface NamedOnnxInferenceFn extends OnnxInferenceFn {
  readonly outputNames?: readonly string[];
}
