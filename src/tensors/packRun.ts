import { sizeOfDims } from './dims.js';
import { allocateTensorData } from './dtypeTable.js';
import type { CheckedBatch } from './readBatch.js';
import type { TensorBufferPool } from './TensorBufferPool.js';
import type { TensorInputSpec } from './TensorInputSpec.js';
import type { TensorType, TensorTypedArray } from './TensorType.js';

/** A stacked input of one run: plain fields, for `new ort.Tensor(type, data, dims)` or a worker's message. */
export interface PackedTensor {
  readonly type: TensorType;
  readonly data: TensorTypedArray | string[];
  readonly dims: readonly number[];
}

/**
 * Stacks elements `[start, end)` into one tensor per input: the batch buffer is allocated once (`runSize` rows,
 * zero-padded past `end - start` for fixed-batch models), or taken from `pool` (whoever passes a pool gives the
 * buffers back once the run has settled), and each element's data is `set()` at its offset.
 */
export function packRun(
  batch: CheckedBatch,
  inputs: readonly TensorInputSpec[],
  start: number,
  end: number,
  runSize: number,
  pool?: TensorBufferPool,
): Record<string, PackedTensor> {
  const feeds: Record<string, PackedTensor> = {};
  inputs.forEach((input, k) => {
    const type = batch.types[k];
    const dims = batch.dims[k];
    const column = batch.data[k];
    const size = sizeOfDims(dims);
    const buffer = pool ? pool.acquire(type, runSize * size) : allocateTensorData(type, runSize * size);
    if (Array.isArray(buffer)) {
      for (let p = start; p < end; p++) {
        const data = column[p] as readonly string[];
        for (let j = 0; j < size; j++) buffer[(p - start) * size + j] = data[j];
      }
    } else {
      const typed = buffer as unknown as { set(source: ArrayLike<unknown>, offset: number): void };
      for (let p = start; p < end; p++) typed.set(column[p] as ArrayLike<unknown>, (p - start) * size);
      // A pooled buffer holds the last batch's values: the padding rows of a fixed-batch model must be zeros again.
      if (pool && end - start < runSize) zeroFrom(buffer, (end - start) * size);
    }
    feeds[input.name] = { type, data: buffer, dims: [runSize, ...dims] };
  });
  return feeds;
}

/** Sets `data[from…]` to zero, whatever its element type (a `BigInt64Array` cannot be filled with the number 0). */
function zeroFrom(data: TensorTypedArray, from: number): void {
  const bytes = data.BYTES_PER_ELEMENT;
  new Uint8Array(data.buffer, data.byteOffset + from * bytes, (data.length - from) * bytes).fill(0);
}
