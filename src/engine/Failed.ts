import {
  BufferOverflowError,
  InferenceError,
  InferenceTimeoutError,
  InvalidExampleError,
  messageOf,
  ModelLoadError,
  ProcessingError,
} from '../core/errors.js';
import type { FailedRecord, FailureStage } from '../core/types.js';

/** A failed element on its way through the engine (never confused with a user's value). */
export class Failed {
  readonly #brand = true;
  constructor(readonly record: FailedRecord) {}

  /** A brand check: reads nothing from `value`, so an element whose property access throws is safe to test. */
  static is(value: unknown): value is Failed {
    return typeof value === 'object' && value !== null && #brand in value;
  }
}

const STAGE_NAMES: Record<FailureStage, string> = {
  preprocess: 'Preprocess function',
  inference: 'Inference',
  postprocess: 'Postprocess function',
  stage: 'Stage',
};

/**
 * Builds the failure of one element. The error names the step and keeps what was thrown as `cause`; this library's
 * own errors (already precise: timeouts, invalid examples, overflow...) are kept as they are.
 */
export function failure(
  stage: FailureStage,
  index: number,
  element: unknown,
  thrown: unknown,
  batch?: readonly unknown[],
  modelId?: string,
): Failed {
  return new Failed({ stage, index, element, error: wrapError(stage, index, thrown, batch), batch, modelId });
}

function wrapError(stage: FailureStage, index: number, thrown: unknown, batch: readonly unknown[] | undefined): Error {
  if (isOwnError(thrown)) return thrown;
  const reason = messageOf(thrown);
  if (stage === 'inference') {
    const size = batch?.length ?? 1;
    return new InferenceError(`Inference failed on a batch of ${size}: ${reason}`, size, { cause: thrown });
  }
  const which = stage === 'stage' ? STAGE_NAMES.stage : `${STAGE_NAMES[stage]} ${index}`;
  return new ProcessingError(`${which} failed: ${reason}`, stage, index, { cause: thrown });
}

/** This library's own errors, already precise (timeouts, invalid examples, overflow...); safe on any thrown value. */
function isOwnError(thrown: unknown): thrown is Error {
  try {
    return (
      thrown instanceof InferenceError ||
      thrown instanceof InvalidExampleError ||
      thrown instanceof InferenceTimeoutError ||
      thrown instanceof BufferOverflowError ||
      thrown instanceof ModelLoadError ||
      thrown instanceof ProcessingError
    );
  } catch {
    return false;
  }
}
