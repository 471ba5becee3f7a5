import { InferenceError } from '../core/errors.js';
import { formatDims, sizeOfDims } from './dims.js';
import type { TensorType } from './TensorType.js';
import type { TensorView } from './TensorView.js';

/** An output of one run as the runner returns it (an `ort.Tensor`, or the plain record a worker sends back). */
export interface RunOutput {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/**
 * Splits one run's outputs along their first (batch) axis into per-element views, appending the first `count`
 * elements' shares to `into[k]` (padding rows past `count` are dropped). The checks run once per output, not per
 * element; each element gets a plain `TensorView` whose typed-array data is a `subarray` view of the output buffer (no
 * copy; string outputs are sliced) and whose frozen `dims` are shared by the batch.
 */
export function splitRun(
  results: Readonly<Record<string, RunOutput | undefined>>,
  outputNames: readonly string[],
  runSize: number,
  count: number,
  into: TensorView[][],
): void {
  for (let k = 0; k < outputNames.length; k++) {
    const name = outputNames[k];
    const output = results[name];
    if (output === undefined || output === null || !Array.isArray(output.dims)) {
      throw new InferenceError(`ONNX output \`${name}\` is missing or is not a tensor.`, count);
    }
    const { dims } = output;
    const type = output.type as TensorType;
    if (dims.length === 0 || dims[0] !== runSize) {
      throw new InferenceError(
        `ONNX output \`${name}\` has dims ${formatDims(dims)}, but the batch has ${runSize} rows: outputs are split ` +
          `along their first axis, which must be the batch axis.`,
        count,
      );
    }
    const elementDims = Object.freeze(dims.slice(1));
    const size = sizeOfDims(elementDims);
    const data = output.data as {
      subarray?(a: number, b: number): TensorView['data'];
      slice(a: number, b: number): TensorView['data'];
    };
    const target = into[k];
    if (typeof data.subarray === 'function') {
      for (let p = 0, at = 0; p < count; p++, at += size) {
        target.push({ type, data: data.subarray(at, at + size), dims: elementDims, size });
      }
    } else {
      for (let p = 0, at = 0; p < count; p++, at += size) {
        target.push({ type, data: data.slice(at, at + size), dims: elementDims, size });
      }
    }
  }
}
