import { InvalidExampleError } from '../core/errors.js';

/**
 * The one message form of a bad element: ``Element N of the batch, input `x`: expected …, got `v` (type).`` as an
 * `InvalidExampleError` whose `position` is N (the element's index in its batch) and `field` the input, so that a
 * caller that knows the element's place in the stream can name it from those fields.
 */
export function elementError(position: number, field: string, detail: string): InvalidExampleError {
  return new InvalidExampleError(`${elementWhere(position, field)}: ${detail}`, position, field);
}

/** ``Element N of the batch, input `x` ``: the start of the message. */
export function elementWhere(position: number, field: string): string {
  return `Element ${position} of the batch, input \`${field}\``;
}

/** Throws {@link elementError}: for checks written as statements. */
export function failElement(position: number, field: string, detail: string): never {
  throw elementError(position, field, detail);
}
