import { defer, forkJoin, isObservable, map, of, type Observable } from 'rxjs';
import type { BatchElementsConfig, BatchKey } from '../batching/BatchElementsConfig.js';
import { describeValue, InferenceError, InvalidExampleError } from '../core/errors.js';
import type { InferenceArgs, InferenceContext, ModelMetadata, ModelUpdate } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkObject } from '../core/validate.js';
import { isOutputArray, mapOutputs } from './inferenceOutputs.js';
import { KeyedModelManager, type KeyedModelGroup } from './KeyedModelManager.js';
import { estimateBytes, ModelHandler, type InferenceResult, type ModelLoadResult } from './ModelHandler.js';

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
 * @typeParam K - the key type. @typeParam M - the model: the inner handler's, or a `KeyedModelManager`.
 */
export class KeyedModelHandler<K, In, Out, M = KeyedModelManager<K>> extends ModelHandler<
  readonly [K, In],
  readonly [K, Out],
  M
> {
  private readonly single: ModelHandler<In, Out, M> | undefined;
  private readonly groups: readonly KeyedModelGroup<K>[] = [];
  private readonly maxModelsInMemory: number = Infinity;
  private readonly keyToGroup = new Map<K, number>();
  private readonly groupKeyFns: readonly (((example: unknown) => BatchKey) | undefined)[] = [];

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
    super();
    if (!Array.isArray(handlerOrMappings)) {
      checkInnerHandler('handler', handlerOrMappings);
      if (config !== undefined) {
        throw new TypeError('KeyedModelHandler takes a config (maxModelsInMemory) only with a list of key groups.');
      }
      this.single = handlerOrMappings as ModelHandler<In, Out, M>;
      return;
    }
    checkObject('config', config);
    checkKnownKeys('the KeyedModelHandler config', config, KEYED_CONFIG_KEYS);
    const { maxModelsInMemory = Infinity } = config ?? {};
    checkNumber('maxModelsInMemory', maxModelsInMemory, { min: 1, integer: true, allowInfinity: true });
    const mappings = handlerOrMappings as readonly KeyMhMapping<K, In, Out>[];
    if (mappings.length === 0) {
      throw new RangeError(
        'Expected `mappings` to be a non-empty array of { keys, handler } groups, got `[]` (array).',
      );
    }
    const groups = mappings.map((mapping, index): KeyedModelGroup<K> => {
      checkObject(`mappings[${index}]`, mapping);
      checkInnerHandler(`mappings[${index}].handler`, mapping.handler);
      const keys: unknown = mapping.keys;
      if (!Array.isArray(keys)) {
        throw new TypeError(`Expected \`mappings[${index}].keys\` to be an array of keys, got ${describeValue(keys)}.`);
      }
      if (keys.length === 0) {
        throw new RangeError(
          `Expected \`mappings[${index}].keys\` to be a non-empty array of keys, got \`[]\` (array).`,
        );
      }
      if (mapping.modelId !== undefined && typeof mapping.modelId !== 'string') {
        throw new TypeError(
          `Expected \`mappings[${index}].modelId\` to be a string, got ${describeValue(mapping.modelId)}.`,
        );
      }
      for (const key of keys as K[]) {
        const other = this.keyToGroup.get(key);
        if (other === index) {
          throw new RangeError(`Key ${describeValue(key)} appears twice in \`mappings[${index}].keys\`.`);
        }
        if (other !== undefined) {
          throw new RangeError(
            `Key ${describeValue(key)} is in two groups (mappings[${other}] and mappings[${index}]); every key must map to exactly one handler.`,
          );
        }
        this.keyToGroup.set(key, index);
      }
      const id = mapping.modelId ?? String(keys[0]);
      return { id, keys: [...(keys as K[])], handler: mapping.handler, path: undefined, origin: index };
    });
    this.single = undefined;
    this.groups = groups;
    this.maxModelsInMemory = maxModelsInMemory;
    this.groupKeyFns = groups.map((g) => g.handler.batchConfig().batchKeyFn);
  }

  loadModel(modelId?: string): ModelLoadResult<M> {
    if (this.single !== undefined) return this.single.loadModel(modelId);
    if (modelId !== undefined && modelId !== '') throw multiModelMetadataError(modelId);
    return new KeyedModelManager(this.groups, this.maxModelsInMemory) as M;
  }

  runInference(
    batch: readonly (readonly [K, In])[],
    model: M,
    context: InferenceContext,
  ): InferenceResult<readonly [K, Out]> {
    batch.forEach(checkPair);
    if (this.single !== undefined) {
      const result = this.single.runInference(
        batch.map((element) => element[1]),
        model,
        context,
      );
      return mapOutputs(result, (outputs) => outputs.map((out, i) => [batch[i]?.[0] as K, out] as const));
    }
    return this.runGroups(batch, model as KeyedModelManager<K>, context);
  }

  override releaseModel(model: M): void | PromiseLike<void> {
    if (this.single !== undefined) return this.single.releaseModel(model);
    return (model as KeyedModelManager<K>).release();
  }

  override getNumBytes(batch: readonly (readonly [K, In])[]): number {
    const keyBytes = estimateBytes(batch.map((element) => element[0]));
    if (this.single !== undefined) return keyBytes + this.single.getNumBytes(batch.map((element) => element[1]));
    let total = keyBytes;
    for (const [group, examples] of groupBy(batch, (key) => this.keyToGroup.get(key))) {
      total += group === undefined ? estimateBytes(examples) : this.groups[group]!.handler.getNumBytes(examples);
    }
    return total;
  }

  override getMetricsNamespace(): string {
    return this.single?.getMetricsNamespace() ?? 'BeamML_KeyedModels';
  }

  override batchConfig(): BatchElementsConfig<any> {
    if (this.single !== undefined) return onExamples(this.single.batchConfig());
    const keyFns = this.groupKeyFns;
    return {
      batchKeyFn: (element: readonly [K, In]): BatchKey => {
        if (!Array.isArray(element)) return 'invalid';
        const group = this.keyToGroup.get(element[0]);
        if (group === undefined) return `unknown|${typeof element[0]}|${String(element[0])}`;
        const inner = keyFns[group]?.(element[1]);
        return inner === undefined ? group : `${group}|${typeof inner}|${String(inner)}`;
      },
    };
  }

  override validateInferenceArgs(args: InferenceArgs | undefined): void {
    if (this.single !== undefined) this.single.validateInferenceArgs(args);
    else for (const handler of new Set(this.groups.map((g) => g.handler))) handler.validateInferenceArgs(args);
  }

  override defaultModelId(): string {
    return this.single?.defaultModelId() ?? '';
  }

  override bisectOnFailure(): boolean {
    return this.single?.bisectOnFailure() ?? this.groups.every((g) => g.handler.bisectOnFailure());
  }

  override loadModelFor(update: ModelUpdate): ModelLoadResult<M> {
    if (this.single !== undefined) return this.single.loadModelFor(update);
    if (!Array.isArray(update)) return this.loadModel((update as ModelMetadata).modelId);
    return new KeyedModelManager(this.groups, this.maxModelsInMemory).withMappings(update) as M;
  }

  override modelIdFor(update: ModelUpdate): string {
    return this.single?.modelIdFor(update) ?? super.modelIdFor(update);
  }

  override metricsPrefixFor(batch: readonly (readonly [K, In])[]): string | undefined {
    if (this.single !== undefined) return this.single.metricsPrefixFor(batch.map((element) => element[1]));
    const first = batch[0];
    const group = Array.isArray(first) ? this.keyToGroup.get(first[0]) : undefined;
    return group === undefined ? undefined : `${this.groups[group]!.id}-`;
  }

  /** Runs each group of the batch on its model and puts the results back in input order. */
  private runGroups(
    batch: readonly (readonly [K, In])[],
    manager: KeyedModelManager<K>,
    context: InferenceContext,
  ): InferenceResult<readonly [K, Out]> {
    const positions = new Map<number, number[]>();
    batch.forEach(([key], i) => {
      const group = manager.groupIndexOf(key);
      if (group === undefined) {
        throw new InvalidExampleError(
          `No model is configured for key ${describeValue(key)} (element ${i}); the key groups are ` +
            `${manager.groups.map((g) => g.id).join(', ')}.`,
          i,
          'key',
        );
      }
      const list = positions.get(group);
      if (list === undefined) positions.set(group, [i]);
      else list.push(i);
    });
    const results: (readonly [K, Out])[] = new Array(batch.length);
    const runGroup = (index: number, indices: readonly number[]): readonly Out[] | Observable<readonly Out[]> => {
      const group = manager.groups[index]!;
      const examples = indices.map((i) => batch[i]![1]);
      const groupContext = { ...context, modelId: group.path ?? group.handler.defaultModelId() };
      return manager.run<Out>(index, (model) => group.handler.runInference(examples, model, groupContext));
    };
    const place = (index: number, indices: readonly number[], outputs: readonly Out[]): void => {
      if (!isOutputArray(outputs) || outputs.length !== indices.length) {
        throw new InferenceError(
          `The model of key group '${manager.groups[index]!.id}' returned ` +
            `${isOutputArray(outputs) ? `${outputs.length} outputs` : describeValue(outputs)} for ` +
            `${indices.length} examples; expected an array of exactly one result per element.`,
          indices.length,
        );
      }
      indices.forEach((position, j) => (results[position] = [batch[position]![0], outputs[j]!] as const));
    };
    if (positions.size === 1) {
      // The usual case (the batch key keeps groups apart): synchronous when the model is loaded and the inner
      // handler is synchronous.
      const [[index, indices]] = positions;
      const outputs = runGroup(index, indices);
      if (isOutputArray(outputs) || !isObservable(outputs)) {
        place(index, indices, outputs as readonly Out[]);
        return results;
      }
      return (outputs as Observable<readonly Out[]>).pipe(map((o) => (place(index, indices, o), results)));
    }
    if (positions.size === 0) return results;
    // A batch that mixes groups (only when batched without this handler's batch key): one run per group, started on
    // subscription, so that a failing group cancels the others and every model reference is let go.
    return forkJoin(
      [...positions].map(([index, indices]) =>
        defer(() => {
          const outputs = runGroup(index, indices);
          return isObservable(outputs) ? outputs : of(outputs);
        }).pipe(map((outputs) => place(index, indices, outputs))),
      ),
    ).pipe(map(() => results));
  }
}

function checkInnerHandler(field: string, handler: unknown): void {
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
      `\`${field}\` has pre/post-processing or no-batching of its own; a keyed handler cannot wrap it. ` +
        'Call withPreprocessFn/withPostprocessFn/withNoBatching on the keyed handler instead.',
    );
  }
}

function checkPair(element: unknown, position: number): void {
  if (!Array.isArray(element) || element.length !== 2) {
    throw new InvalidExampleError(
      `Expected element ${position} to be a [key, example] pair, got ${describeValue(element)}.`,
      position,
      undefined,
    );
  }
}

function multiModelMetadataError(modelId: string): TypeError {
  return new TypeError(
    `A KeyedModelHandler with several key groups is refreshed with KeyModelPathMapping[] ` +
      `([{ keys, updatePath }, ...], every configured key once), not with ModelMetadata (modelId \`${modelId}\`).`,
  );
}

/** The inner handler's batching config with its element functions applied to the example part of `[key, example]`. */
export function onExamples(config: BatchElementsConfig<any>): BatchElementsConfig<any> {
  const { batchKeyFn, elementSizeFn } = config;
  return {
    ...config,
    ...(batchKeyFn && { batchKeyFn: (element: readonly [unknown, unknown]) => batchKeyFn(element[1]) }),
    ...(elementSizeFn && { elementSizeFn: (element: readonly [unknown, unknown]) => elementSizeFn(element[1]) }),
  };
}

function groupBy<K, In>(batch: readonly (readonly [K, In])[], groupOf: (key: K) => number | undefined) {
  const groups = new Map<number | undefined, In[]>();
  for (const [key, example] of batch) {
    const group = groupOf(key);
    const list = groups.get(group);
    if (list === undefined) groups.set(group, [example]);
    else list.push(example);
  }
  return groups;
}

/** Every option of `KeyedModelHandlerConfig`, for the unknown-key check (the compiler keeps it complete). */
const KEYED_CONFIG_KEYS = {
  maxModelsInMemory: true,
} as const satisfies Record<keyof KeyedModelHandlerConfig, true>;
