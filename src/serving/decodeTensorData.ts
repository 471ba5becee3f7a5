import type { OnnxTypedArray } from '../handlers/onnx/onnxTensors.js';
import { sizeOfDims } from '../tensors/dims.js';
import { allocateTensorData } from '../tensors/dtypeTable.js';
import { jsonTensorValue } from '../tensors/jsonTensorValue.js';
import { InferRequestError } from './InferRequestError.js';
import type { RuntimeDtype } from './oipDatatypes.js';

/** Typed arrays (or strings, for BYTES) a request's tensor data becomes: what the ONNX handler takes. */
export type TensorData = OnnxTypedArray | string[];

const EXPECTED: Partial<Record<RuntimeDtype, string>> = {
  float32: 'a number (FP32)',
  float64: 'a number (FP64)',
  bool: 'true or false (BOOL)',
  string: 'a string (BYTES)',
  int64: 'an integer within ±2^53, or a decimal string (INT64)',
  uint64: 'a non-negative integer below 2^53, or a decimal string (UINT64)',
};

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * Reads a request tensor's `data` (flat, or nested in row-major order as the protocol allows) into a typed array of
 * the element type. Nested data must follow `shape` exactly; flat data must hold exactly `product(shape)` values.
 *
 * @param field The JSON path of the tensor, for error messages: `inputs[0]`.
 * @throws InferRequestError (400) naming `field.data` and the position of a bad value.
 */
export function decodeTensorData(
  data: unknown,
  shape: readonly number[],
  dtype: RuntimeDtype,
  field: string,
): TensorData {
  if (!Array.isArray(data)) {
    throw new InferRequestError(`\`${field}.data\`: expected an array of values, got ${show(data)}.`, 400);
  }
  const size = sizeOfDims(shape);
  // FP16 has no JSON representation the protocol settles on (its spec says so): refused before we get here.
  if (dtype === 'float16') throw new Error('No tensor data for float16.');
  const out: TensorData = allocateTensorData(dtype, size);
  const sink = out as unknown as unknown[];
  const flat = data.length === 0 || !Array.isArray(data[0]);
  const bad = (value: unknown, where: string): never => {
    throw new InferRequestError(
      `\`${field}.data${where}\`: expected ${EXPECTED[dtype] ?? `an integer in the ${dtype.toUpperCase()} range`}, ` +
        `got ${show(value)}.`,
      400,
    );
  };
  if (flat) {
    if (data.length !== size) {
      throw new InferRequestError(
        `\`${field}.data\`: shape [${shape.join(', ')}] needs ${size} values, got ${data.length}.`,
        400,
      );
    }
    for (let i = 0; i < size; i++) {
      const v = jsonTensorValue(data[i], dtype);
      if (v === undefined) bad(data[i], `[${i}]`);
      sink[i] = v;
    }
    return out;
  }
  let filled = 0;
  const path: number[] = [];
  const fill = (node: unknown, depth: number): void => {
    if (depth === shape.length) {
      const v = jsonTensorValue(node, dtype);
      if (v === undefined) bad(node, path.map((p) => `[${p}]`).join(''));
      sink[filled++] = v;
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new InferRequestError(
        `\`${field}.data${path.map((p) => `[${p}]`).join('')}\`: nested data must follow shape ` +
          `[${shape.join(', ')}]: expected ${shape[depth]} values at depth ${depth}, got ` +
          `${Array.isArray(node) ? node.length : show(node)}.`,
        400,
      );
    }
    for (let i = 0; i < node.length; i++) {
      path.push(i);
      fill(node[i], depth + 1);
      path.pop();
    }
  };
  fill(data, 0);
  return out;
}
