import { checkInnerHandler } from './checkInnerHandler.js';
import { KeyGroupsModelHandler } from './KeyGroupsModelHandler.js';
import type { KeyedModelHandlerConfig, KeyMhMapping } from './KeyMhMapping.js';
import type { KeyedModelManager } from './KeyedModelManager.js';
import { DelegatingModelHandler, type ModelHandler } from './ModelHandler.js';
import { SingleModelKeyedHandler } from './SingleModelKeyedHandler.js';

export type { KeyedModelHandlerConfig, KeyMhMapping } from './KeyMhMapping.js';

/**
 * Runs a model on keyed elements, `[key, example]` tuples, and emits `[key, result]` (Beam's `KeyedModelHandler`).
 *
 * - `new KeyedModelHandler(handler)`: one model for all keys. Every hook (load, release, batching, inference args,
 *   default model, refresh) is the inner handler's; its `batchKeyFn` and `elementSizeFn` see the example part.
 * - `new KeyedModelHandler([{ keys, handler, modelId? }, ...], { maxModelsInMemory })`: a model per group of keys.
 *   The handler's model is a {@link KeyedModelManager} that loads a group's model on the group's first batch and
 *   keeps at most `maxModelsInMemory` loaded (least recently used out, never while a batch runs on it). Batches never
 *   mix groups (the batch key is the group, combined with the group handler's own `batchKeyFn`); the other batching
 *   settings of group handlers are ignored, as in Beam: set them on the operator. An element whose key is in no
 *   group fails with an `InvalidExampleError` (field `'key'`) that names the key. Per-key refresh: the side input
 *   gives `KeyModelPathMapping[]` (every configured key exactly once; a mapping may split a group, not merge two);
 *   `ModelMetadata` with a non-empty `modelId` is refused. Metrics are prefixed per configured group
 *   (`'<modelId>-'`, the group's `modelId` or its first key), a prefix that stays the same across refreshes.
 *
 * Inner handlers must not have pre/post-processing of their own: compose on the keyed handler instead. Results keep
 * input order, and stay synchronous when the models are loaded and the inner handlers are synchronous.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { KeyedModelHandler, modelHandler, runInference } from 'rxjs-inference';
 *
 * const plusOne = modelHandler({ runInference: (batch: readonly number[]) => batch.map((x) => x + 1) });
 * const always200 = modelHandler({ runInference: (batch: readonly number[]) => batch.map(() => 200) });
 * const keyed = new KeyedModelHandler([
 *   { keys: [0], handler: always200 },
 *   { keys: [1, 2, 3], handler: plusOne },
 * ]);
 * from([[0, 5], [1, 5]] as const).pipe(runInference(keyed)).subscribe(console.log); // [0, 200], [1, 6]
 * ```
 *
 * The two forms are two internal handlers (`SingleModelKeyedHandler`, `KeyGroupsModelHandler`); this class picks one
 * at construction and forwards every hook to it.
 *
 * @typeParam K - the key type. @typeParam M - the model: the inner handler's, or a `KeyedModelManager`.
 */
export class KeyedModelHandler<K, In, Out, M = KeyedModelManager<K>> extends DelegatingModelHandler<
  readonly [K, In],
  readonly [K, Out],
  M
> {
  /** One model for all keys. */
  constructor(handler: ModelHandler<In, Out, M>);
  /**
   * One model for all keys, with the element types given explicitly (`new KeyedModelHandler<K, E, R>(handler)`): the
   * model type is then the inner handler's, whatever `M` defaults to.
   */
  constructor(handler: ModelHandler<In, Out, any>);
  /** A model per group of keys. */
  constructor(mappings: readonly KeyMhMapping<K, In, Out>[], config?: KeyedModelHandlerConfig);
  constructor(
    handlerOrMappings: ModelHandler<In, Out, any> | readonly KeyMhMapping<K, In, Out>[],
    config?: KeyedModelHandlerConfig,
  ) {
    super(keyedForm(handlerOrMappings, config));
  }
}

function keyedForm<K, In, Out, M>(
  handlerOrMappings: ModelHandler<In, Out, M> | readonly KeyMhMapping<K, In, Out>[],
  config: KeyedModelHandlerConfig | undefined,
): ModelHandler<readonly [K, In], readonly [K, Out], M> {
  if (Array.isArray(handlerOrMappings)) {
    const groups = new KeyGroupsModelHandler<K, In, Out>(
      handlerOrMappings as readonly KeyMhMapping<K, In, Out>[],
      config,
    );
    return groups as unknown as ModelHandler<readonly [K, In], readonly [K, Out], M>;
  }
  checkInnerHandler('handler', handlerOrMappings, 'keyed handler');
  if (config !== undefined) {
    throw new TypeError('KeyedModelHandler takes a config (maxModelsInMemory) only with a list of key groups.');
  }
  return new SingleModelKeyedHandler<K, In, Out, M>(handlerOrMappings as ModelHandler<In, Out, M>);
}
