import { from, isObservable, map, Observable } from 'rxjs';
import { describeValue, InferenceError } from '../core/errors.js';
import { PartialOutput } from '../core/PartialOutput.js';
import type { InferenceResult } from './ModelHandler.js';

/** Whether a value a handler's result delivered is a partial output (brand-safe on any value). */
export function isPartialOutput(value: unknown): value is PartialOutput {
  try {
    return value instanceof PartialOutput;
  } catch {
    return false;
  }
}

/** True for Promises and other thenables; a value whose `then` cannot even be read is not one. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    return typeof (value as PromiseLike<unknown>).then === 'function';
  } catch {
    return false;
  }
}

/**
 * Whether a handler's batch result arrives later: an Observable, a thenable, an async iterable or a ReadableStream.
 * Anything else is the result itself — the array of outputs, or (a handler bug the engine reports) something that is
 * not an array. Strings, Sets and other sync iterables are not results that arrive later (#13 item 1).
 */
export function arrivesLater(result: unknown): boolean {
  if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return false;
  try {
    if (Array.isArray(result)) return false;
    return (
      isObservable(result) ||
      isThenable(result) ||
      typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' ||
      typeof (result as { getReader?: unknown }).getReader === 'function'
    );
  } catch {
    return false; // a revoked Proxy: certainly not outputs arriving later
  }
}

/** Whether a synchronous result is an array of outputs (a revoked Proxy, which cannot even be asked, is not). */
export function isOutputArray(result: unknown): result is readonly unknown[] {
  try {
    return Array.isArray(result);
  } catch {
    return false;
  }
}

/**
 * A handler's batch result as an Observable of the whole output array (several emitted arrays are concatenated;
 * partial outputs, such as streamed tokens, are left out: only the final results count here), or
 * `undefined` when the result came synchronously: then it is the outputs themselves, which the caller checks (it may
 * not be an array at all). Every value an asynchronous result delivers must be an array: one that is not fails the
 * batch with an `InferenceError`, rather than being taken for one output (a batch of one) or crashing.
 */
export function outputsAsObservable<R>(result: InferenceResult<R>): Observable<readonly R[]> | undefined {
  if (!arrivesLater(result)) return undefined;
  const source = from(result as PromiseLike<readonly R[]>);
  return new Observable<readonly R[]>((subscriber) => {
    let first: readonly R[] | undefined;
    let all: R[] | undefined;
    return source.subscribe({
      next: (chunk) => {
        if (isPartialOutput(chunk)) return;
        if (!isOutputArray(chunk)) {
          subscriber.error(
            new InferenceError(
              `runInference delivered ${describeValue(chunk)}; expected an array of outputs, one per element.`,
              0,
            ),
          );
          return;
        }
        if (first === undefined) first = chunk;
        else (all ??= [...first]).push(...(chunk as R[]));
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        subscriber.next(all ?? first ?? []);
        subscriber.complete();
      },
    });
  });
}

/**
 * Applies `fn` to a handler's outputs, now or when they arrive. A synchronous result that is not an array is passed
 * on untouched, so that the engine reports it with its own message (it knows the batch and the handler).
 */
export function mapOutputs<R, S>(
  result: InferenceResult<R>,
  fn: (outputs: readonly R[]) => readonly S[],
): InferenceResult<S> {
  const later = outputsAsObservable(result);
  if (later !== undefined) return later.pipe(map(fn));
  return isOutputArray(result) ? fn(result as readonly R[]) : (result as unknown as InferenceResult<S>);
}
