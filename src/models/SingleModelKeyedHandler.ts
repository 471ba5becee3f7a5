import type { BatchElementsConfig } from '../batching/BatchElementsConfig.js';
import type { InferenceContext } from '../core/types.js';
import { checkKeyedPair } from './checkKeyedPair.js';
import { mapOutputs } from './inferenceOutputs.js';
import { DelegatingModelHandler, estimateBytes, type InferenceResult, type ModelHandler } from './ModelHandler.js';

/**
 * The single-model form of `KeyedModelHandler`: one model for all keys. Every hook is the inner handler's; the ones
 * that see elements (inference, sizes, batching, metrics prefix) get the example part of `[key, example]`, and results
 * get their key back.
 */
export class SingleModelKeyedHandler<K, In, Out, M> extends DelegatingModelHandler<
  readonly [K, In],
  readonly [K, Out],
  M
> {
  constructor(private readonly inner: ModelHandler<In, Out, M>) {
    super(inner);
  }

  override runInference(
    batch: readonly (readonly [K, In])[],
    model: M,
    context: InferenceContext,
  ): InferenceResult<readonly [K, Out]> {
    batch.forEach(checkKeyedPair);
    const result = this.inner.runInference(examplesOf(batch), model, context);
    return mapOutputs(result, (outputs) => outputs.map((out, i) => [batch[i]?.[0] as K, out] as const));
  }

  override getNumBytes(batch: readonly (readonly [K, In])[]): number {
    return estimateBytes(batch.map((element) => element[0])) + this.inner.getNumBytes(examplesOf(batch));
  }

  override batchConfig(): BatchElementsConfig<any> {
    return onExamples(this.inner.batchConfig());
  }

  override metricsPrefixFor(batch: readonly (readonly [K, In])[]): string | undefined {
    return this.inner.metricsPrefixFor(examplesOf(batch));
  }
}

function examplesOf<K, In>(batch: readonly (readonly [K, In])[]): In[] {
  return batch.map((element) => element[1]);
}

/** The inner handler's batching config with its element functions applied to the example part of `[key, example]`. */
function onExamples(config: BatchElementsConfig<any>): BatchElementsConfig<any> {
  const { batchKeyFn, elementSizeFn } = config;
  return {
    ...config,
    ...(batchKeyFn && { batchKeyFn: (element: readonly [unknown, unknown]) => batchKeyFn(element[1]) }),
    ...(elementSizeFn && { elementSizeFn: (element: readonly [unknown, unknown]) => elementSizeFn(element[1]) }),
  };
}
