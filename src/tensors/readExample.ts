import { describeValue, InvalidExampleError } from '../core/errors.js';
import { dimsFit, dimsMatch, formatDims, sizeOfDims } from './dims.js';
import { ARRAY_TAG, arrayTag, typeOfData, typeOfTag } from './dtypeTable.js';
import { elementError } from './elementError.js';
import type { TensorInputSpec } from './TensorInputSpec.js';
import { isTensorLike } from './TensorLike.js';
import type { TensorType, TensorTypedArray } from './TensorType.js';

/** One element's value for one input, checked against the model. */
export interface ElementInput {
  readonly type: TensorType;
  readonly data: TensorTypedArray | readonly string[];
  readonly dims: readonly number[];
}

/** Dims of a bare typed array: the declared per-element dims when fixed and of the right size, else 1-D. */
function dimsOfBareArray(data: TensorTypedArray, input: TensorInputSpec, position: number): readonly number[] {
  const shape = input.shape;
  if (shape === undefined || shape.length === 2) return [data.length];
  const declared = shape.slice(1);
  if (declared.every((d): d is number => typeof d === 'number') && sizeOfDims(declared) === data.length) {
    return declared;
  }
  throw elementError(
    position,
    input.name,
    `a bare typed array needs a 1-D or fully fixed per-element shape, but the ` +
      `model's input shape is ${formatDims(shape)}; give \`{ data, dims }\` instead.`,
  );
}

// Runs once per element and input on the hot path: one tag lookup, no intermediate arrays.
/** Checks one element's value for one input against the declared type and shape. */
function checkInput(value: unknown, input: TensorInputSpec, position: number): ElementInput {
  let data: TensorTypedArray | readonly string[];
  let dims: readonly number[];
  let explicitType: string | undefined;
  const bare = ArrayBuffer.isView(value) ? typeOfData(value) : undefined;
  if (bare !== undefined) {
    data = value as TensorTypedArray;
    dims = dimsOfBareArray(data, input, position);
  } else if (isTensorLike(value)) {
    ({ data, dims } = value);
    explicitType = value.type;
  } else {
    throw elementError(
      position,
      input.name,
      `expected an ort.Tensor, \`{ data, dims }\` or a typed array, got ${describeValue(value)}.`,
    );
  }
  const tag = arrayTag(data);
  const dataType = bare ?? typeOfTag(tag);
  const actualType = (explicitType ?? dataType) as TensorType | undefined;
  const type = input.type ?? actualType;
  if (
    type === undefined ||
    dataType === undefined ||
    (explicitType !== undefined && explicitType !== type) ||
    tag !== ARRAY_TAG[type]
  ) {
    throw elementError(
      position,
      input.name,
      `expected dtype ${type ?? 'a tensor type'}, got ${actualType ?? 'unknown'} ` + `(${tag}).`,
    );
  }
  if (!dimsFit(dims, data.length)) {
    throw elementError(position, input.name, `dims ${formatDims(dims)} do not fit its ${data.length} values.`);
  }
  if (input.shape !== undefined && !dimsMatch(dims, input.shape)) {
    throw elementError(
      position,
      input.name,
      `expected dims ${formatDims(input.shape.slice(1))} (the model's input shape ` +
        `${formatDims(input.shape)} without its batch axis), got ${formatDims(dims)}.`,
    );
  }
  return { type, data, dims };
}

/**
 * Normalizes one example into one checked value per model input, in input order. An example is a tensor or typed
 * array (single-input models) or a record input name → tensor; missing and unknown input names are errors.
 */
export function readExample(example: unknown, inputs: readonly TensorInputSpec[], position: number): ElementInput[] {
  if (ArrayBuffer.isView(example) || isTensorLike(example)) {
    if (inputs.length !== 1) {
      throw new InvalidExampleError(
        `Element ${position} of the batch is a single tensor, but the model has ${inputs.length} inputs ` +
          `(${inputs.map((i) => `\`${i.name}\``).join(', ')}): give a record input name → tensor.`,
        position,
        undefined,
      );
    }
    return [checkInput(example, inputs[0], position)];
  }
  if (example === null || typeof example !== 'object' || Array.isArray(example)) {
    throw new InvalidExampleError(
      `Element ${position} of the batch is not an ONNX example: expected an ort.Tensor, \`{ data, dims }\`, a typed ` +
        `array or a record input name → tensor, got ${describeValue(example)}.`,
      position,
      undefined,
    );
  }
  const record = example as Readonly<Record<string, unknown>>;
  const names = inputs.map((i) => i.name);
  for (const key of Object.keys(record)) {
    if (!names.includes(key)) {
      throw new InvalidExampleError(
        `Element ${position} of the batch has an input \`${key}\` that the model does not have ` +
          `(its inputs: ${names.map((n) => `\`${n}\``).join(', ')}).`,
        position,
        key,
      );
    }
  }
  return inputs.map((input) => {
    if (record[input.name] === undefined) {
      throw new InvalidExampleError(
        `Element ${position} of the batch is missing input \`${input.name}\` (the model's inputs: ` +
          `${names.map((n) => `\`${n}\``).join(', ')}; the element has: ${Object.keys(record).join(', ') || 'none'}).`,
        position,
        input.name,
      );
    }
    return checkInput(record[input.name], input, position);
  });
}
