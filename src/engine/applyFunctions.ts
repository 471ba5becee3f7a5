import { isThenable } from './async.js';
import { failure } from './Failed.js';

/**
 * The outcome of pre- or postprocessing that is still running (a function returned a Promise): never confused with an
 * element, even one that has a `then` method — elements are values, only a function's Promise is awaited (#13 item
 * 10). `index` and `element` name the function awaited now and the value that entered it (for a time bound's error).
 */
export class Pending {
  readonly #brand = true;
  constructor(
    readonly promise: Promise<unknown>,
    public index: number,
    public element: unknown,
  ) {}

  /** A brand check: reads nothing from `value`, so an element whose property access throws is safe to test. */
  static is(value: unknown): value is Pending {
    return typeof value === 'object' && value !== null && #brand in value;
  }
}

/**
 * Runs pre- or postprocess functions on one value, in order, from `from` on: the final value, a `Failed` naming the
 * function that threw (its index in execution order and the value that entered it), or — only once a function returns
 * a Promise — a `Pending` (a Promise of either). Synchronous functions stay synchronous: no Promise on the common path.
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
    if (isThenable(current)) {
      const pending: Pending = new Pending(
        Promise.resolve(current).then(
          (resolved) => {
            const next = applyFunctions(stage, fns, resolved, modelId, i + 1);
            if (!Pending.is(next)) return next;
            pending.index = next.index;
            pending.element = next.element;
            return next.promise;
          },
          (error: unknown) => failure(stage, i, entering, error, undefined, modelId),
        ),
        i,
        entering,
      );
      return pending;
    }
  }
  return current;
}
