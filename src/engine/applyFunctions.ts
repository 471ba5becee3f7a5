import { isThenable } from './async.js';
import { failure } from './Failed.js';

/**
 * Runs pre- or postprocess functions on one value, in order, from `from` on: the final value, a `Failed` naming the
 * function that threw (its index in execution order and the value that entered it), or — only once a function returns
 * a Promise — a Promise of either. Synchronous functions stay synchronous: no Promise on the common path.
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
      return Promise.resolve(current).then(
        (resolved) => applyFunctions(stage, fns, resolved, modelId, i + 1),
        (error: unknown) => failure(stage, i, entering, error, undefined, modelId),
      );
    }
  }
  return current;
}
