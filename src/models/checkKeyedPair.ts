import { describeValue, InvalidExampleError } from '../core/errors.js';

/** Throws an `InvalidExampleError` naming the element when the element at `position` is not a `[key, example]` pair. */
export function checkKeyedPair(element: unknown, position: number): void {
  if (!Array.isArray(element) || element.length !== 2) {
    throw new InvalidExampleError(
      `Expected element ${position} to be a [key, example] pair, got ${describeValue(element)}.`,
      position,
      undefined,
    );
  }
}
