import { InferenceError } from '../core/errors.js';
import type { DecodedInferRequest } from './decodeInferRequest.js';
import { toOipDatatype } from './oipDatatypes.js';
import type { ServedModel } from './ServedModel.js';

/** One example's output tensor, as the ONNX (`dims`, `type`) or TF.js (`shape`, `dtype`) handlers give it. */
interface OutputTensor {
  readonly data: ArrayLike<unknown>;
  readonly dims?: readonly number[];
  readonly shape?: readonly number[];
  readonly type?: string;
  readonly dtype?: string;
}

function isTensor(value: unknown): value is OutputTensor {
  if (value === null || typeof value !== 'object') return false;
  const v = value as OutputTensor;
  return (ArrayBuffer.isView(v.data) || Array.isArray(v.data)) && (Array.isArray(v.dims) || Array.isArray(v.shape));
}

/** The output `name` of one example's result (a `PredictionResult` whose inference is a tensor or a record of them). */
function outputOf(result: unknown, name: string, single: boolean, row: number): OutputTensor {
  const inference =
    result !== null && typeof result === 'object' && 'inference' in result
      ? (result as { inference: unknown }).inference
      : result;
  const tensor = single && isTensor(inference) ? inference : (inference as Record<string, unknown> | null)?.[name];
  if (!isTensor(tensor)) {
    throw new InferenceError(`The model's result for example ${row} has no output tensor \`${name}\`.`, 1);
  }
  return tensor;
}

/**
 * A float32 value in the fewest digits that read back as the same float32 (`0.1f` → `0.1`, not
 * `0.10000000149011612`): the response stays short and exact.
 */
function float32Text(v: number): string {
  const plain = String(v);
  if (plain.length <= 9) return plain;
  for (let digits = 6; digits < 9; digits++) {
    const short = Number(v.toPrecision(digits));
    if (Math.fround(short) === v) return String(short);
  }
  return String(Number(v.toPrecision(9)));
}

/** Appends the JSON text of `data`'s values (row-major) to `parts`. */
function appendValues(parts: string[], data: ArrayLike<unknown>, datatype: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v === 'number') {
      // JSON has no NaN or Infinity: they go as strings, never as invalid JSON.
      if (!Number.isFinite(v)) parts.push(`"${String(v)}"`);
      else if (datatype === 'BOOL') parts.push(v !== 0 ? 'true' : 'false');
      else parts.push(datatype === 'FP32' ? float32Text(v) : String(v));
    } else if (typeof v === 'bigint') {
      // Written as a JSON number with every digit (JSON numbers are not limited to 2^53; JavaScript's parser is).
      parts.push(v.toString());
    } else if (typeof v === 'boolean') {
      parts.push(v ? 'true' : 'false');
    } else {
      parts.push(JSON.stringify(String(v)));
    }
  }
}

/**
 * Builds the JSON text of an Open Inference Protocol `$inference_response` from the results of a request's n
 * examples: each requested output is one tensor of shape `[n, ...per-example dims]`, its data flat in row-major
 * order, its datatype the tensor's own; the request's `id` comes back.
 *
 * @throws InferenceError when an example's result lacks an output, or the examples' outputs differ in shape.
 */
export function encodeInferResponse(
  model: ServedModel,
  request: DecodedInferRequest,
  results: readonly unknown[],
  modelVersion: string = model.version,
): string {
  const single = model.outputs.length === 1;
  const outputs: string[] = [];
  for (const spec of request.outputs) {
    const rows = results.map((result, row) => outputOf(result, spec.name, single, row));
    const first = rows[0];
    const dims = first.dims ?? first.shape!;
    const datatype = toOipDatatype(String(first.type ?? first.dtype ?? '')) ?? spec.datatype;
    const parts: string[] = [];
    rows.forEach((tensor, row) => {
      const rowDims = tensor.dims ?? tensor.shape!;
      if (rowDims.length !== dims.length || rowDims.some((d, k) => d !== dims[k])) {
        throw new InferenceError(
          `Output \`${spec.name}\` has shape [${rowDims.join(', ')}] for example ${row} but [${dims.join(', ')}] ` +
            'for example 0: they cannot form one tensor.',
          results.length,
        );
      }
      appendValues(parts, tensor.data, datatype);
    });
    outputs.push(
      `{"name":${JSON.stringify(spec.name)},"datatype":"${datatype}","shape":[${[results.length, ...dims].join(',')}],` +
        `"data":[${parts.join(',')}]}`,
    );
  }
  const id = request.id === undefined ? '' : `,"id":${JSON.stringify(request.id)}`;
  return (
    `{"model_name":${JSON.stringify(model.name)},"model_version":${JSON.stringify(modelVersion)}${id},` +
    `"outputs":[${outputs.join(',')}]}`
  );
}
