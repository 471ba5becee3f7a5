import type * as Ort from 'onnxruntime-node';
import { InferenceError } from '../../core/errors.js';
import type { OrtModule } from './onnxSession.js';
import { formatDims, sizeOfDims } from './onnxTensors.js';

/**
 * Splits one run's outputs along their first (batch) axis into per-element tensors, appending the first `count`
 * elements' shares to `into[name]` (padding rows past `count` are dropped). Typed-array outputs are split as
 * `subarray` views of the output buffer: no copy; string outputs are sliced.
 */
export function splitRun(
  ort: OrtModule,
  results: Ort.InferenceSession.ReturnType,
  outputNames: readonly string[],
  runSize: number,
  count: number,
  into: Ort.Tensor[][],
): void {
  outputNames.forEach((name, k) => {
    const output = results[name] as Ort.Tensor | undefined;
    if (output === undefined || !Array.isArray(output.dims)) {
      throw new InferenceError(`ONNX output \`${name}\` is missing or is not a tensor.`, count);
    }
    const { dims, type } = output;
    if (dims.length === 0 || dims[0] !== runSize) {
      throw new InferenceError(
        `ONNX output \`${name}\` has dims ${formatDims(dims)}, but the batch has ${runSize} rows: outputs are split ` +
          `along their first axis, which must be the batch axis.`,
        count,
      );
    }
    const elementDims = dims.slice(1);
    const size = sizeOfDims(elementDims);
    const data = output.data as unknown as {
      subarray?(a: number, b: number): unknown;
      slice(a: number, b: number): unknown;
    };
    const target = into[k];
    for (let p = 0; p < count; p++) {
      const part = data.subarray ? data.subarray(p * size, (p + 1) * size) : data.slice(p * size, (p + 1) * size);
      target.push(new ort.Tensor(type as 'float32', part as Float32Array, elementDims));
    }
  });
}
