/**
 * A partial output of one element of a batch (e.g. one generated token), emitted by a handler's `runInference`
 * Observable before its final array of results. `index` is the element's position in the batch given to
 * `runInference`.
 *
 * `streamInference` delivers partial outputs as they come; `runInference` ignores them and emits only the final
 * results, so a streaming handler works with both.
 */
export class PartialOutput<P = unknown> {
  constructor(
    /** Position of the element in the batch. */
    readonly index: number,
    /** The partial output (a token id, a piece of text…). */
    readonly value: P,
  ) {}
}

/**
 * Marks `value` as a partial output of element `index` of the batch: what a streaming handler's `runInference`
 * Observable emits before its final array of results.
 *
 * @example
 * ```ts
 * import { Observable } from 'rxjs';
 * import { modelHandler, partialOutput } from 'rxjs-inference';
 *
 * // Each element is a word; the "model" streams its letters, then returns the whole word.
 * const spell = modelHandler({
 *   runInference: (batch: readonly string[]) =>
 *     new Observable<readonly string[] | ReturnType<typeof partialOutput<string>>>((subscriber) => {
 *       batch.forEach((word, i) => [...word].forEach((letter) => subscriber.next(partialOutput(i, letter))));
 *       subscriber.next(batch);
 *       subscriber.complete();
 *     }),
 * });
 * ```
 */
export function partialOutput<P>(index: number, value: P): PartialOutput<P> {
  return new PartialOutput(index, value);
}
