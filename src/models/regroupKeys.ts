import { describeValue } from '../core/errors.js';
import type { KeyModelPathMapping } from '../core/types.js';
import type { ModelHandler } from './ModelHandler.js';

/** One group of keys served by one model (a resolved `KeyMhMapping`, or a group after a per-key refresh). */
export interface KeyedModelGroup<K> {
  /** The group's id: its metrics prefix (without the `-`). */
  readonly id: string;
  /** The keys this group serves (never empty). */
  readonly keys: readonly K[];
  /** The handler that loads and runs this group's model. */
  readonly handler: ModelHandler<any, any, any>;
  /** The model to load: an update path, or `undefined` for the handler's default model. */
  readonly path: string | undefined;
  /** Index of the group of the original configuration this one comes from (refreshes may split groups). */
  readonly origin: number;
}

/**
 * The key groups of a per-key model update: every configured key must appear exactly once; a mapping may take keys
 * from one original group only (groups may be split, each part with its own path, but never merged). Invalid updates
 * throw a `TypeError`/`RangeError` that names the key.
 */
export function regroupKeys<K>(
  groups: readonly KeyedModelGroup<K>[],
  mappings: readonly KeyModelPathMapping<K>[],
): KeyedModelGroup<K>[] {
  const originals = new Map<K, KeyedModelGroup<K>>();
  for (const group of groups) for (const key of group.keys) originals.set(key, group);
  if (mappings.length === 0) throw new RangeError('Expected at least one KeyModelPathMapping, got an empty list.');
  const seen = new Set<K>();
  const regrouped = mappings.map((mapping, m): KeyedModelGroup<K> => {
    if (mapping === null || typeof mapping !== 'object' || !Array.isArray(mapping.keys)) {
      throw new TypeError(
        `Expected mapping ${m} to be a KeyModelPathMapping { keys, updatePath }, got ${describeValue(mapping)}.`,
      );
    }
    if (typeof mapping.updatePath !== 'string' || mapping.updatePath === '') {
      throw new TypeError(
        `Expected \`updatePath\` of the mapping for keys ${describeValue(mapping.keys)} to be a non-empty string, got ${describeValue(mapping.updatePath)}.`,
      );
    }
    if (mapping.keys.length === 0) throw new RangeError(`Mapping ${m} (${mapping.updatePath}) has no keys.`);
    let origin: KeyedModelGroup<K> | undefined;
    for (const key of mapping.keys) {
      const group = originals.get(key);
      if (group === undefined) {
        throw new RangeError(`Invalid model update: key ${describeValue(key)} is not in the original configuration.`);
      }
      if (seen.has(key))
        throw new RangeError(`Invalid model update: key ${describeValue(key)} appears in several mappings.`);
      seen.add(key);
      if (origin !== undefined && origin !== group) {
        throw new RangeError(
          `Invalid model update: key ${describeValue(key)} belongs to group '${group.id}', but the mapping for ` +
            `${describeValue(mapping.keys)} starts in group '${origin.id}'; a mapping may split a group, not merge groups.`,
        );
      }
      origin = group;
    }
    const first = origin!;
    return {
      id: mapping.modelId ?? String(mapping.keys[0]),
      keys: [...mapping.keys],
      handler: first.handler,
      path: mapping.updatePath,
      origin: first.origin,
    };
  });
  for (const key of originals.keys()) {
    if (!seen.has(key))
      throw new RangeError(
        `Invalid model update: key ${describeValue(key)} has no mapping; every configured key needs one.`,
      );
  }
  return regrouped;
}
