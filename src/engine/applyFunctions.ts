import { catchError, from as fromInput, isObservable, mergeMap, type Observable, of, take, throwIfEmpty } from 'rxjs';
import { isThenable } from '../models/inferenceOutputs.js';
import { Failed, failure } from './Failed.js';

// Read once: the CommonJS build reaches an import through a property getter at every use (issue 11, main job), and
// these two run for every function on every element.
const observableCheck = isObservable;
const thenableCheck = isThenable;

/**
 * The outcome of pre- or postprocessing that is still running (a function returned a Promise or an Observable): never
 * confused with an element, even one that has a `then` method — elements are values, only a function's result is
 * awaited (#13 item 10). `outcome` emits once: the final value or a `Failed`. `index` and `element` name the function
 * awaited now and the value that entered it (for a time bound's error). `viaPromise`: a function returned a Promise,
 * which settles outside any virtual time (a TestScheduler's flush does not wait for it).
 */
export class Pending {
  readonly #brand = true;
  constructor(
    readonly outcome: Observable<unknown>,
    public index: number,
    public element: unknown,
    readonly viaPromise = false,
  ) {}

  /** A brand check: reads nothing from `value`, so an element whose property access throws is safe to test. */
  static is(value: unknown): value is Pending {
    return typeof value === 'object' && value !== null && #brand in value;
  }
}

/**
 * Runs pre- or postprocess functions on one value, in order, from `from` on: the final value, a `Failed` naming the
 * function that threw (its index in execution order and the value that entered it), or — only once a function returns
 * a Promise or an Observable — a `Pending` (which emits either). Synchronous functions stay synchronous: no Promise on the common path.
 */
export function applyFunctions(
  stage: 'preprocess' | 'postprocess',
  fns: readonly ((value: any) => unknown)[],
  value: unknown,
  modelId?: string,
  from = 0,
): unknown {
  let current = value;
  for (let i = from; i < fns.length; i++) {
    const entering = current;
    try {
      current = fns[i](current);
    } catch (error) {
      return failure(stage, i, entering, error, undefined, modelId);
    }
    // An Observable stays on its own schedule (a TestScheduler's virtual time): its first value continues the chain.
    // A primitive result (or `undefined`) is never awaited: nothing to ask it.
    if (current === null || (typeof current !== 'object' && typeof current !== 'function')) continue;
    const observable = isObservableResult(current);
    const returned = observable
      ? (current as Observable<unknown>).pipe(
          take(1),
          throwIfEmpty(() => new Error(`The ${stage} function returned an Observable that completed without a value.`)),
        )
      : thenableCheck(current)
        ? fromInput(Promise.resolve(current))
        : undefined;
    if (returned !== undefined) {
      const pending: Pending = new Pending(
        returned.pipe(
          catchError((error: unknown) => of(failure(stage, i, entering, error, undefined, modelId))),
          mergeMap((resolved) => {
            if (Failed.is(resolved)) return of(resolved);
            const next = applyFunctions(stage, fns, resolved, modelId, i + 1);
            if (!Pending.is(next)) return of(next);
            pending.index = next.index;
            pending.element = next.element;
            return next.outcome;
          }),
        ),
        i,
        entering,
        !observable,
      );
      return pending;
    }
  }
  return current;
}

/** Whether a function returned an Observable; a value that cannot even be asked (a revoked Proxy) is not one. */
function isObservableResult(value: unknown): value is Observable<unknown> {
  try {
    return observableCheck(value);
  } catch {
    return false;
  }
}
