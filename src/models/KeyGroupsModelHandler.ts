import { defer, forkJoin, isObservable, map, of, type Observable } from 'rxjs';
import type { BatchElementsConfig, BatchKey } from '../batching/BatchElementsConfig.js';
import { describeValue, InferenceError, InvalidExampleError } from '../core/errors.js';
import type { InferenceArgs, InferenceContext, ModelMetadata, ModelUpdate } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkObject } from '../core/validate.js';
import { checkInnerHandler } from './checkInnerHandler.js';
import { checkKeyedPair } from './checkKeyedPair.js';
import { isOutputArray } from './inferenceOutputs.js';
import type { KeyedModelHandlerConfig, KeyMhMapping } from './KeyMhMapping.js';
import { KeyedModelManager, type KeyedModelGroup } from './KeyedModelManager.js';
import { estimateBytes, ModelHandler, type InferenceResult, type ModelLoadResult } from './ModelHandler.js';

/**
 * The per-key-group form of `KeyedModelHandler`: a model per group of keys. Its model is a {@link KeyedModelManager}
 * (one model per group, loaded on the group's first batch, at most `maxModelsInMemory` loaded); batches are keyed by
 * group, and a batch is split by group, run on each group's model and put back in input order.
 */
export class KeyGroupsModelHandler<K, In, Out> extends ModelHandler<
  readonly [K, In],
  readonly [K, Out],
  KeyedModelManager<K>
> {
  private readonly groups: readonly KeyedModelGroup<K>[];
  private readonly maxModelsInMemory: number;
  private readonly keyToGroup = new Map<K, number>();
  private readonly groupKeyFns: readonly (((example: unknown) => BatchKey) | undefined)[];

  constructor(mappings: readonly KeyMhMapping<K, In, Out>[], config: KeyedModelHandlerConfig | undefined) {
    super();
    checkObject('config', config);
    checkKnownKeys('the KeyedModelHandler config', config, KEYED_CONFIG_KEYS);
    const { maxModelsInMemory = Infinity } = config ?? {};
    checkNumber('maxModelsInMemory', maxModelsInMemory, { min: 1, integer: true, allowInfinity: true });
    if (mappings.length === 0) {
      throw new RangeError(
        'Expected `mappings` to be a non-empty array of { keys, handler } groups, got `[]` (array).',
      );
    }
    const groups = mappings.map((mapping, index): KeyedModelGroup<K> => {
      checkObject(`mappings[${index}]`, mapping);
      checkInnerHandler(`mappings[${index}].handler`, mapping.handler, 'keyed handler');
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
    this.groups = groups;
    this.maxModelsInMemory = maxModelsInMemory;
    this.groupKeyFns = groups.map((g) => g.handler.batchConfig().batchKeyFn);
  }

  loadModel(modelId?: string): KeyedModelManager<K> {
    if (modelId !== undefined && modelId !== '') throw multiModelMetadataError(modelId);
    return new KeyedModelManager(this.groups, this.maxModelsInMemory);
  }

  runInference(
    batch: readonly (readonly [K, In])[],
    model: KeyedModelManager<K>,
    context: InferenceContext,
  ): InferenceResult<readonly [K, Out]> {
    batch.forEach(checkKeyedPair);
    return this.runGroups(batch, model, context);
  }

  override releaseModel(model: KeyedModelManager<K>): void | PromiseLike<void> {
    return model.release();
  }

  override getNumBytes(batch: readonly (readonly [K, In])[]): number {
    let total = estimateBytes(batch.map((element) => element[0]));
    for (const [group, examples] of groupBy(batch, (key) => this.keyToGroup.get(key))) {
      total += group === undefined ? estimateBytes(examples) : this.groups[group]!.handler.getNumBytes(examples);
    }
    return total;
  }

  override getMetricsNamespace(): string {
    return 'BeamML_KeyedModels';
  }

  override batchConfig(): BatchElementsConfig<any> {
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
    for (const handler of new Set(this.groups.map((g) => g.handler))) handler.validateInferenceArgs(args);
  }

  override bisectOnFailure(): boolean {
    return this.groups.every((g) => g.handler.bisectOnFailure());
  }

  /** The most any group's handler asks for (a batch runs on one group's model). */
  override concurrency(): number {
    return Math.max(...this.groups.map((g) => g.handler.concurrency()));
  }

  override loadModelFor(update: ModelUpdate): ModelLoadResult<KeyedModelManager<K>> {
    if (!Array.isArray(update)) return this.loadModel((update as ModelMetadata).modelId);
    return new KeyedModelManager(this.groups, this.maxModelsInMemory).withMappings(update);
  }

  override metricsPrefixFor(batch: readonly (readonly [K, In])[]): string | undefined {
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

function multiModelMetadataError(modelId: string): TypeError {
  return new TypeError(
    `A KeyedModelHandler with several key groups is refreshed with KeyModelPathMapping[] ` +
      `([{ keys, updatePath }, ...], every configured key once), not with ModelMetadata (modelId \`${modelId}\`).`,
  );
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
