import { sizeOfDims } from './dims.js';
import { elementError } from './elementError.js';
import { firstNonFiniteIn, type FloatData } from './firstNonFinite.js';
import { nonFiniteMessage } from './nonFiniteMessage.js';
import type { PackedTensor } from './packRun.js';
import type { CheckedBatch } from './readBatch.js';
import { firstNonFiniteInPlace } from './scannableFloats.js';
import type { TensorInputSpec } from './TensorInputSpec.js';

/**
 * Rejects NaN and ±Infinity in float inputs (unless `allowNonFinite`), naming the first such element, the input and
 * the index: one scan per input over the whole batch (WebAssembly SIMD, see `firstNonFiniteIn`).
 */
export function checkFinite(batch: CheckedBatch, inputs: readonly TensorInputSpec[]): void {
  const n = batch.data[0].length;
  for (let k = 0; k < inputs.length; k++) {
    const type = batch.types[k];
    if (type === 'float32' || type === 'float64') checkElementsFinite(batch, inputs, k, n);
  }
}

/** The rule for float input `k`: its elements scanned one by one, the first NaN or ±Infinity named. */
function checkElementsFinite(batch: CheckedBatch, inputs: readonly TensorInputSpec[], k: number, n: number): void {
  const bad = firstNonFiniteIn(batch.data[k] as FloatData[], 0, n);
  if (bad !== undefined) throw elementError(bad.position, inputs[k].name, nonFiniteMessage(bad.value, bad.index));
}

/**
 * {@link checkFinite} for a batch already stacked into `feeds` (all its elements, row-major from row 0): an input
 * stacked into scannable memory (`allocateScannable`) is scanned where it lies, with no copy; any other input is
 * checked element by element as `checkFinite` does. Same rule, same error.
 */
export function checkStackedFinite(
  batch: CheckedBatch,
  inputs: readonly TensorInputSpec[],
  feeds: Readonly<Record<string, PackedTensor>>,
): void {
  const n = batch.data[0].length;
  for (let k = 0; k < inputs.length; k++) {
    const type = batch.types[k];
    if (type !== 'float32' && type !== 'float64') continue;
    const size = sizeOfDims(batch.dims[k]);
    const stacked = (feeds[inputs[k].name].data as FloatData).subarray(0, n * size);
    const at = firstNonFiniteInPlace(stacked);
    if (at === undefined) {
      checkElementsFinite(batch, inputs, k, n);
    } else if (at >= 0) {
      const position = Math.floor(at / size);
      throw elementError(position, inputs[k].name, nonFiniteMessage(stacked[at], at - position * size));
    }
  }
}
