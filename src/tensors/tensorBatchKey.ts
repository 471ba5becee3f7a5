import type { BatchKey } from '../batching/BatchElementsConfig.js';
import { sameDims } from './dims.js';
import { arrayTag, typeOfData } from './dtypeTable.js';
import { isTensorLike } from './TensorLike.js';

// The key of the last single-tensor example, by its parts: consecutive examples of one shape (the common case) reuse
// the key string instead of building one per element (bench P6).
let lastTag: string | undefined;
let lastType: string | undefined;
let lastLength = -1;
let lastDims: readonly number[] | undefined;
let lastKey = '';

function tensorKey(value: unknown): string {
  if (ArrayBuffer.isView(value)) {
    const tag = arrayTag(value);
    const length = (value as { length?: number }).length ?? -1;
    if (tag === lastTag && lastDims === undefined && length === lastLength) return lastKey;
    lastKey = `${typeOfData(value) ?? tag}[${length}]`;
    [lastTag, lastType, lastLength, lastDims] = [tag, undefined, length, undefined];
    return lastKey;
  }
  if (isTensorLike(value)) {
    const tag = arrayTag(value.data);
    if (tag === lastTag && value.type === lastType && lastDims !== undefined && sameDims(value.dims, lastDims)) {
      return lastKey;
    }
    lastKey = `${value.type ?? typeOfData(value.data) ?? tag}[${value.dims.join(',')}]`;
    [lastTag, lastType, lastLength, lastDims] = [tag, value.type, -1, value.dims.slice()];
    return lastKey;
  }
  return `?${typeof value}`;
}

/**
 * The batch key of a tensor example: every input's dtype and dims (`'a=float32[4];b=float32[2]'`), so that elements
 * of different shapes or types never share a batch. Never throws: an unrecognizable example gets a key of its own
 * kind and fails validation in its batch.
 */
export function tensorBatchKey(example: unknown): BatchKey {
  if (ArrayBuffer.isView(example) || isTensorLike(example)) return tensorKey(example);
  if (example === null || typeof example !== 'object') return `?${typeof example}`;
  const record = example as Readonly<Record<string, unknown>>;
  return Object.keys(record)
    .sort()
    .map((name) => `${name}=${tensorKey(record[name])}`)
    .join(';');
}
