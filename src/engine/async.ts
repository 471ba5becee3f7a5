import { config, from, type Observable, observable } from 'rxjs';
import { arrivesLater } from '../models/inferenceOutputs.js';

export { isThenable } from '../models/inferenceOutputs.js';

/**
 * A batch result as an Observable of what it delivers (arrays of outputs, partial outputs), or `undefined` when it came
 * synchronously: then it is the array of outputs, or — a handler bug the caller reports — something that is not one.
 */
export function asyncOutputs(result: unknown): Observable<unknown> | undefined {
  return arrivesLater(result) ? from(result as PromiseLike<unknown>) : undefined;
}

/**
 * `result` when it is a native Promise that delivers nothing but its value — not also an interop Observable (a
 * `streamingPromise`, whose partial outputs `from()` reads) — so awaiting it with `then` is what `from()` would do.
 * Anything else (other thenables, Observables, a value whose properties cannot be read): `undefined`.
 */
export function plainPromise(result: unknown): Promise<unknown> | undefined {
  try {
    if (!(result instanceof Promise)) return undefined;
    return typeof (result as unknown as Record<PropertyKey, unknown>)[observable] === 'function' ? undefined : result;
  } catch {
    return undefined;
  }
}

/** Reports an error thrown by a Promise callback of the engine as rxjs reports one it cannot deliver. */
export function reportUnhandled(error: unknown): void {
  setTimeout(() => {
    const { onUnhandledError } = config;
    if (onUnhandledError) onUnhandledError(error);
    else throw error;
  });
}
