import { formatDims, sameDims } from './dims.js';
import { arrayTag } from './dtypeTable.js';
import { elementError } from './elementError.js';
import { readExample } from './readExample.js';
import type { TensorInputSpec } from './TensorInputSpec.js';
import { isTensorLike, type TensorLike } from './TensorLike.js';
import type { TensorType, TensorTypedArray } from './TensorType.js';

/**
 * A checked batch: per input, the type and per-element dims that every element shares, and each element's data
 * (`data[input][position]`, one slot per element: no per-element objects on the common path).
 */
export interface CheckedBatch {
  readonly types: readonly TensorType[];
  readonly dims: readonly (readonly number[])[];
  readonly data: readonly (TensorTypedArray | readonly string[])[][];
}

/**
 * The data of `example` when it has exactly the form of element 0 (single-input models): the same kind (bare typed
 * array or tensor), array class, explicit type, length and dims — then `readExample` would accept it with the same
 * type and dims, so it is not checked again; `undefined` otherwise (it is then read and checked in full).
 */
function sameForm(example: unknown, first: unknown, tag: string, length: number): TensorTypedArray | undefined {
  if (ArrayBuffer.isView(example)) {
    if (!ArrayBuffer.isView(first)) return undefined;
    const data = example as TensorTypedArray;
    return data.length === length && arrayTag(data) === tag ? data : undefined;
  }
  if (example === null || typeof example !== 'object' || ArrayBuffer.isView(first)) return undefined;
  const value = example as Partial<TensorLike>;
  const model = first as TensorLike;
  const data = value.data as TensorTypedArray | undefined;
  if (data === undefined || !ArrayBuffer.isView(data) || data.length !== length || value.type !== model.type) {
    return undefined;
  }
  if (!Array.isArray(value.dims) || !sameDims(value.dims, model.dims) || arrayTag(data) !== tag) return undefined;
  return data;
}

/**
 * Reads and checks a whole batch: element 0 in full; every later element either in one cheap comparison with element
 * 0 (same form, so the same checks would pass: the common case), or in full (`readExample`), followed by the
 * same-shape check — elements are stacked together, so their dims per input must equal element 0's.
 */
export function readBatch(batch: readonly unknown[], inputs: readonly TensorInputSpec[]): CheckedBatch {
  const n = batch.length;
  const first = readExample(batch[0], inputs, 0);
  const types = first.map((f) => f.type);
  const dims = first.map((f) => f.dims);
  const data = first.map((f) => {
    const column = new Array<TensorTypedArray | readonly string[]>(n);
    column[0] = f.data;
    return column;
  });
  // The fast comparison applies to single-input models whose element 0 is numeric tensor data, bare or tensor-shaped.
  const fast =
    inputs.length === 1 && !Array.isArray(first[0].data) && (ArrayBuffer.isView(batch[0]) || isTensorLike(batch[0]));
  const tag = fast ? arrayTag(first[0].data) : '';
  const length = first[0].data.length;
  for (let p = 1; p < n; p++) {
    const example = batch[p];
    if (fast) {
      const same = sameForm(example, batch[0], tag, length);
      if (same !== undefined) {
        data[0][p] = same;
        continue;
      }
    }
    const element = readExample(example, inputs, p);
    for (let k = 0; k < inputs.length; k++) {
      const [a, b] = [dims[k], element[k].dims];
      if (!sameDims(a, b)) {
        throw elementError(
          p,
          inputs[k].name,
          `dims ${formatDims(b)} differ from element 0's ${formatDims(a)}; elements of ` +
            `different shapes cannot share a batch (OnnxModelHandler.batchConfig() keys batches by shape).`,
        );
      }
      data[k][p] = element[k].data;
    }
  }
  return { types, dims, data };
}
