import { BufferOverflowError, describeValue, InvalidExampleError } from '../core/errors.js';
import { isOutputArray } from '../models/inferenceOutputs.js';

/** Element `seq` does not fit: `maxBufferedElements` are queued already. */
export function overflowError(seq: number, maxBufferedElements: number): BufferOverflowError {
  return new BufferOverflowError(
    `runInference queued ${maxBufferedElements} elements (maxBufferedElements) while the model was busy or loading; ` +
      `element ${seq} does not fit. Raise maxBufferedElements, or slow the source down.`,
    maxBufferedElements,
  );
}

/** With `withNoBatching()`, element `seq` must be a non-empty array of examples: the error when it is not. */
export function notABatchError(seq: number, value: unknown): InvalidExampleError | undefined {
  if (isOutputArray(value) && value.length > 0) return undefined;
  return new InvalidExampleError(
    `Element ${seq} is ${isOutputArray(value) ? 'an empty batch' : `not a batch: ${describeValue(value)}`}; ` +
      'with withNoBatching() every element must be a non-empty array of examples.',
    undefined,
    undefined,
  );
}
