import { describeValue } from '../core/errors.js';
import type { ModelHandler } from './ModelHandler.js';

/**
 * Checks that `handler` is a ModelHandler a wrapper (`KeyedModelHandler`, `MaybeKeyedModelHandler`) can run: one
 * without pre/post-processing or no-batching of its own, since the wrapper hands it examples, not elements.
 *
 * @param field - the argument's name in the message (`'handler'`, `'mappings[2].handler'`).
 * @param wrapper - what wraps it, for the message (`'keyed handler'`, `'MaybeKeyedModelHandler'`).
 */
export function checkInnerHandler(field: string, handler: unknown, wrapper: string): void {
  const h = handler as ModelHandler<unknown, unknown> | null | undefined;
  if (
    h === null ||
    typeof h !== 'object' ||
    typeof h.loadModel !== 'function' ||
    typeof h.runInference !== 'function'
  ) {
    throw new TypeError(`Expected \`${field}\` to be a ModelHandler, got ${describeValue(handler)}.`);
  }
  if (h.preprocessFns().length > 0 || h.postprocessFns().length > 0 || h.skipBatching()) {
    throw new TypeError(
      `\`${field}\` has pre/post-processing or no-batching of its own; the ${wrapper} cannot wrap it. ` +
        `Call withPreprocessFn/withPostprocessFn/withNoBatching on the ${wrapper} instead.`,
    );
  }
}
