import { from, isObservable, type Observable } from 'rxjs';

/** True for Promises and other thenables. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * A model-load result as an Observable, or `undefined` when it is the model itself (synchronous). Only Observables
 * and thenables count as asynchronous: a model that happens to be an array or an iterable is a model.
 */
export function asyncModel<M>(result: unknown): Observable<M> | undefined {
  if (isObservable(result)) return result as Observable<M>;
  if (isThenable(result)) return from(result as PromiseLike<M>);
  return undefined;
}

/**
 * A batch result as an Observable, or `undefined` when it is already the array of outputs (synchronous). Anything
 * else an `ObservableInput` can be (Promise, Observable, async iterable) is asynchronous; an Observable that emits
 * several arrays has them concatenated.
 */
export function asyncOutputs(result: unknown): Observable<readonly unknown[]> | undefined {
  if (Array.isArray(result)) return undefined;
  return from(result as PromiseLike<readonly unknown[]>);
}
