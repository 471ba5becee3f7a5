import { elementError } from './elementError.js';
import { firstNonFiniteIn, type FloatData } from './firstNonFinite.js';
import { nonFiniteMessage } from './nonFiniteMessage.js';
import type { CheckedBatch } from './readBatch.js';
import type { TensorInputSpec } from './TensorInputSpec.js';

/**
 * Rejects NaN and ±Infinity in float inputs (unless `allowNonFinite`), naming the first such element, the input and
 * the index: one scan per input over the whole batch (WebAssembly SIMD, see `firstNonFiniteIn`).
 */
export function checkFinite(batch: CheckedBatch, inputs: readonly TensorInputSpec[]): void {
  const n = batch.data[0].length;
  for (let k = 0; k < inputs.length; k++) {
    const type = batch.types[k];
    if (type !== 'float32' && type !== 'float64') continue;
    const bad = firstNonFiniteIn(batch.data[k] as FloatData[], 0, n);
    if (bad !== undefined) {
      throw elementError(bad.position, inputs[k].name, nonFiniteMessage(bad.value, bad.index));
    }
  }
}
