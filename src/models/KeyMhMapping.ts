import type { ModelHandler } from './ModelHandler.js';

/** Maps one or more keys to the handler whose model serves them (Beam's `KeyModelMapping`). */
export interface KeyMhMapping<K, In, Out> {
  /** The keys of this group (at least one; a key belongs to one group only). */
  readonly keys: readonly K[];
  /** The handler that loads and runs this group's model (without pre/post-processing of its own). */
  readonly handler: ModelHandler<In, Out, any>;
  /** The group's id, used as its metrics prefix (`'<modelId>-'`). @default String(keys[0]) */
  readonly modelId?: string;
}

/** Options of a multi-model {@link KeyedModelHandler}. */
export interface KeyedModelHandlerConfig {
  /** How many group models may stay loaded at once; the least recently used beyond it is released. @default Infinity */
  readonly maxModelsInMemory?: number;
}
