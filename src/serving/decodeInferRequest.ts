import { decodeTensorData, type TensorData } from './decodeTensorData.js';
import { InferRequestError } from './InferRequestError.js';
import { fromOipDatatype } from './oipDatatypes.js';
import type { ServedModel, ServedTensor } from './ServedModel.js';

/** An inference request, checked against the model and split into examples. */
export interface DecodedInferRequest {
  /** The request's `id`, returned in the response. */
  readonly id: string | undefined;
  /** One example per row of the inputs' first dimension, in the handler's tensor format. */
  readonly examples: unknown[];
  /** The outputs to return, in order (every output when the request names none). */
  readonly outputs: readonly ServedTensor[];
}

const MAX_RANK = 32;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function names(tensors: readonly ServedTensor[]): string {
  return tensors.map((t) => `\`${t.name}\``).join(', ');
}

function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function bad(message: string): never {
  throw new InferRequestError(message, 400);
}

/** `parameters` may be present; the binary-data extension (which this server does not implement) is refused. */
function checkParameters(value: unknown, field: string): void {
  if (value === undefined) return;
  if (!isObject(value)) bad(`\`${field}\`: expected an object of name → value, got ${show(value)}.`);
  for (const key of ['binary_data', 'binary_data_size', 'binary_data_output']) {
    if (value[key] !== undefined && value[key] !== false) {
      bad(`\`${field}.${key}\`: the binary tensor data extension is not supported; send tensor data as JSON.`);
    }
  }
}

/**
 * Checks an Open Inference Protocol `$inference_request` (already parsed JSON) against the served model and turns it
 * into examples: a request whose inputs have first dimension n carries n examples (row i of every input), which
 * the predictor batches with other requests' examples. Each example's tensors view the request's data (no copy).
 *
 * @throws InferRequestError (400) naming the field that is wrong and what was expected.
 */
export function decodeInferRequest(body: unknown, model: ServedModel): DecodedInferRequest {
  if (!isObject(body)) bad(`request body: expected a JSON object with \`inputs\`, got ${show(body)}.`);
  const { id, inputs, outputs, parameters } = body;
  if (id !== undefined && typeof id !== 'string') bad(`\`id\`: expected a string, got ${show(id)}.`);
  checkParameters(parameters, 'parameters');
  if (!Array.isArray(inputs) || inputs.length === 0) {
    bad(`\`inputs\`: expected a non-empty array of input tensors (${names(model.inputs)}), got ${show(inputs)}.`);
  }

  const byName = new Map<string, { data: TensorData; rowShape: number[] }>();
  let count: number | undefined;
  inputs.forEach((input: unknown, i: number) => {
    const field = `inputs[${i}]`;
    if (!isObject(input)) bad(`\`${field}\`: expected an object with name, shape, datatype and data.`);
    const { name, shape, datatype, data } = input;
    if (typeof name !== 'string') bad(`\`${field}.name\`: expected a string, got ${show(name)}.`);
    const spec = model.inputs.find((t) => t.name === name);
    if (spec === undefined)
      bad(`\`${field}.name\`: the model has no input \`${name}\`; its inputs: ${names(model.inputs)}.`);
    if (byName.has(name)) bad(`\`${field}.name\`: input \`${name}\` is given twice.`);
    if (
      !Array.isArray(shape) ||
      shape.length === 0 ||
      shape.length > MAX_RANK ||
      !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
    ) {
      bad(`\`${field}.shape\`: expected an array of non-negative integers (batch size first), got ${show(shape)}.`);
    }
    const dims = shape as number[];
    if (typeof datatype !== 'string')
      bad(`\`${field}.datatype\`: expected a string such as "FP32", got ${show(datatype)}.`);
    const dtype = fromOipDatatype(datatype);
    if (dtype === undefined) bad(`\`${field}.datatype\`: unknown datatype ${show(datatype)}.`);
    if (datatype !== spec.datatype) {
      bad(`\`${field}.datatype\`: the model's input \`${name}\` is ${spec.datatype}, got ${datatype}.`);
    }
    if (spec.shape !== undefined) {
      const fits = spec.shape.length === dims.length && spec.shape.every((d, k) => k === 0 || d < 0 || d === dims[k]);
      if (!fits) {
        bad(
          `\`${field}.shape\`: the model's input \`${name}\` has shape ${showShape(spec.shape)}, got ${showShape(dims)}.`,
        );
      }
    }
    if (dims[0] === 0) bad(`\`${field}.shape\`: the first dimension is the number of examples; it must be at least 1.`);
    if (count === undefined) count = dims[0];
    else if (dims[0] !== count) {
      bad(
        `\`${field}.shape\`: first dimension ${dims[0]} differs from the other inputs' ${count}: ` +
          'every input carries the same examples.',
      );
    }
    checkParameters(input.parameters, `${field}.parameters`);
    byName.set(name, { data: decodeTensorData(data, dims, dtype, field), rowShape: dims.slice(1) });
  });
  const missing = model.inputs.filter((t) => !byName.has(t.name));
  if (missing.length > 0) bad(`\`inputs\`: missing ${names(missing)}; the model's inputs: ${names(model.inputs)}.`);

  const n = count!;
  const single = model.inputs.length === 1;
  const examples: unknown[] = new Array(n);
  for (let row = 0; row < n; row++) {
    const record: Record<string, unknown> = {};
    for (const spec of model.inputs) {
      const { data, rowShape } = byName.get(spec.name)!;
      let size = 1;
      for (const d of rowShape) size *= d;
      const slice = Array.isArray(data)
        ? data.slice(row * size, (row + 1) * size)
        : data.subarray(row * size, (row + 1) * size);
      const dtype = fromOipDatatype(spec.datatype)!;
      record[spec.name] =
        model.tensorFormat === 'onnx'
          ? { data: slice, dims: rowShape, type: dtype }
          : { data: slice, shape: rowShape, dtype };
    }
    examples[row] = single ? record[model.inputs[0].name] : record;
  }
  return { id, examples, outputs: selectOutputs(outputs, model) };
}

function selectOutputs(requested: unknown, model: ServedModel): readonly ServedTensor[] {
  if (requested === undefined) return model.outputs;
  if (!Array.isArray(requested)) bad(`\`outputs\`: expected an array of { "name" } objects, got ${show(requested)}.`);
  const selected: ServedTensor[] = [];
  requested.forEach((output: unknown, i: number) => {
    const field = `outputs[${i}]`;
    if (!isObject(output) || typeof output.name !== 'string') {
      bad(`\`${field}\`: expected an object with a string \`name\`, got ${show(output)}.`);
    }
    const spec = model.outputs.find((t) => t.name === output.name);
    if (spec === undefined) {
      bad(`\`${field}.name\`: the model has no output \`${output.name}\`; its outputs: ${names(model.outputs)}.`);
    }
    if (selected.includes(spec)) bad(`\`${field}.name\`: output \`${spec.name}\` is requested twice.`);
    checkParameters(output.parameters, `${field}.parameters`);
    selected.push(spec);
  });
  return selected;
}
