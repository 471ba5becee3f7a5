import type { BatchKey } from '../../batching/BatchElementsConfig.js';
import { arrayTag, isTensorLike, typeOfData } from './onnxTensors.js';

function tensorKey(value: unknown): string {
  if (isTensorLike(value))
    return `${value.type ?? typeOfData(value.data) ?? arrayTag(value.data)}[${value.dims.join(',')}]`;
  if (ArrayBuffer.isView(value))
    return `${typeOfData(value) ?? arrayTag(value)}[${(value as { length?: number }).length}]`;
  return `?${typeof value}`;
}

/**
 * The batch key of an ONNX example: every input's dtype and dims (`'a=float32[4];b=float32[2]'`), so that elements
 * of different shapes or types never share a batch. Never throws: an unrecognizable example gets a key of its own
 * kind and fails validation in its batch.
 */
export function onnxBatchKey(example: unknown): BatchKey {
  if (ArrayBuffer.isView(example) || isTensorLike(example)) return tensorKey(example);
  if (example === null || typeof example !== 'object') return `?${typeof example}`;
  const record = example as Readonly<Record<string, unknown>>;
  return Object.keys(record)
    .sort()
    .map((name) => `${name}=${tensorKey(record[name])}`)
    .join(';');
}
