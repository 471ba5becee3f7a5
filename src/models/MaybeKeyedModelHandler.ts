import type { BatchElementsConfig, BatchKey } from '../batching/BatchElementsConfig.js';
import type { InferenceContext } from '../core/types.js';
import { checkFunction, checkObject } from '../core/validate.js';
import { mapOutputs } from './inferenceOutputs.js';
import { checkInnerHandler } from './checkInnerHandler.js';
import { DelegatingModelHandler, estimateBytes, type InferenceResult, type ModelHandler } from './ModelHandler.js';

/** Options of a {@link MaybeKeyedModelHandler}. */
export interface MaybeKeyedModelHandlerConfig {
  /**
   * Tells a keyed element (`[key, example]`) from an unkeyed example. Must be true only for 2-element arrays.
   * @default {@link isKeyedElement}: a 2-element array whose first item is a string, number, bigint or symbol
   */
  readonly isKeyed?: (element: unknown) => boolean;
}

/**
 * The default rule of {@link MaybeKeyedModelHandler}: an element is keyed when it is an array of exactly two items
 * whose first item is a string, a number, a bigint or a symbol. Everything else (objects, typed arrays, tensors,
 * arrays of other lengths, `[object, x]` pairs) is an unkeyed example.
 */
export function isKeyedElement(element: unknown): boolean {
  if (!Array.isArray(element) || element.length !== 2) return false;
  const type = typeof element[0];
  return type === 'string' || type === 'number' || type === 'bigint' || type === 'symbol';
}

/**
 * Runs a model on elements that may or may not be keyed (Beam's `MaybeKeyedModelHandler`): a keyed element
 * `[key, example]` gives `[key, result]`, an unkeyed example gives `result`. One model for all elements.
 *
 * Which elements are keyed is decided per element by `isKeyed` (default {@link isKeyedElement}), so a batch may mix
 * both kinds. The trade-off of the default: an unkeyed example that is itself a 2-element array starting with a
 * string or number (e.g. a feature pair `[0.5, 1.5]`) is taken for a keyed one; pass an `isKeyed` that fits your
 * data then (e.g. `(x) => Array.isArray(x) && typeof x[0] === 'string'`). Every hook is the inner handler's; its
 * `batchKeyFn` and `elementSizeFn` see the example part. The inner handler must not have pre/post-processing of its
 * own (compose on this handler instead).
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { MaybeKeyedModelHandler, modelHandler, runInference } from 'rxjs-inference';
 *
 * const plusOne = modelHandler({ runInference: (batch: readonly number[]) => batch.map((x) => x + 1) });
 * const maybeKeyed = new MaybeKeyedModelHandler<string, number, number, undefined>(plusOne);
 * from<(number | readonly [string, number])[]>([1, ['a', 2]])
 *   .pipe(runInference(maybeKeyed))
 *   .subscribe(console.log); // 2, ['a', 3]
 * ```
 */
export class MaybeKeyedModelHandler<K, In, Out, M = unknown> extends DelegatingModelHandler<
  In | readonly [K, In],
  Out | readonly [K, Out],
  M
> {
  private readonly isKeyed: (element: unknown) => boolean;

  /**
   * @param inner - the handler that runs the examples (without pre/post-processing of its own).
   * @param config - how keyed elements are recognised.
   */
  constructor(
    private readonly inner: ModelHandler<In, Out, M>,
    config?: MaybeKeyedModelHandlerConfig,
  ) {
    super(inner);
    checkInnerHandler('handler', inner, 'MaybeKeyedModelHandler');
    checkObject('config', config);
    checkFunction('isKeyed', config?.isKeyed);
    this.isKeyed = config?.isKeyed ?? isKeyedElement;
  }

  override runInference(
    batch: readonly (In | readonly [K, In])[],
    model: M,
    context: InferenceContext,
  ): InferenceResult<Out | readonly [K, Out]> {
    const keyed = batch.map((element) => this.isKeyed(element));
    const result = this.inner.runInference(this.examples(batch, keyed), model, context);
    return mapOutputs(result, (outputs) =>
      outputs.map((out, i) => (keyed[i] ? ([(batch[i] as readonly [K, In])[0], out] as const) : out)),
    );
  }

  override getNumBytes(batch: readonly (In | readonly [K, In])[]): number {
    const keyed = batch.map((element) => this.isKeyed(element));
    const keys = batch.filter((_, i) => keyed[i]).map((element) => (element as readonly [K, In])[0]);
    return estimateBytes(keys) + this.inner.getNumBytes(this.examples(batch, keyed));
  }

  override batchConfig(): BatchElementsConfig<any> {
    const config = this.inner.batchConfig();
    const { batchKeyFn, elementSizeFn } = config;
    const example = (element: unknown) => (this.isKeyed(element) ? (element as readonly [K, In])[1] : element);
    return {
      ...config,
      ...(batchKeyFn && { batchKeyFn: (element: unknown): BatchKey => batchKeyFn(example(element)) }),
      ...(elementSizeFn && { elementSizeFn: (element: unknown) => elementSizeFn(example(element)) }),
    };
  }

  override metricsPrefixFor(batch: readonly (In | readonly [K, In])[]): string | undefined {
    return this.inner.metricsPrefixFor(
      this.examples(
        batch,
        batch.map((element) => this.isKeyed(element)),
      ),
    );
  }

  private examples(batch: readonly (In | readonly [K, In])[], keyed: readonly boolean[]): In[] {
    return batch.map((element, i) => (keyed[i] ? (element as readonly [K, In])[1] : (element as In)));
  }
}
