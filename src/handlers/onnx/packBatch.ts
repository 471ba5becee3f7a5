import { describeValue, InvalidExampleError } from '../../core/errors.js';
import { firstNonFiniteIn, type FloatData } from '../../tensors/firstNonFinite.js';
import { nonFiniteMessage } from '../../tensors/nonFiniteMessage.js';
import type { OnnxInputInfo } from './onnxSession.js';
import {
  ARRAY_TAG,
  allocateData,
  arrayTag,
  formatDims,
  isTensorLike,
  sizeOfDims,
  typeOfData,
  typeOfTag,
  type OnnxTensorType,
  type OnnxTypedArray,
  type TensorLike,
} from './onnxTensors.js';

/** One element's value for one input, checked against the model. */
export interface ElementInput {
  readonly type: OnnxTensorType;
  readonly data: OnnxTypedArray | readonly string[];
  readonly dims: readonly number[];
}

const where = (position: number, name: string) => `Element ${position} of the batch, input \`${name}\``;

/** Dims of a bare typed array: the declared per-element dims when fixed and of the right size, else 1-D. */
function dimsOfBareArray(data: OnnxTypedArray, input: OnnxInputInfo, position: number): readonly number[] {
  const shape = input.shape;
  if (shape === undefined || shape.length === 2) return [data.length];
  const declared = shape.slice(1);
  if (declared.every((d): d is number => typeof d === 'number') && sizeOfDims(declared) === data.length) {
    return declared;
  }
  throw new InvalidExampleError(
    `${where(position, input.name)}: a bare typed array needs a 1-D or fully fixed per-element shape, but the ` +
      `model's input shape is ${formatDims(shape)}; give \`{ data, dims }\` instead.`,
    position,
    input.name,
  );
}

/** True when `dims` are non-negative integers holding `length` values. */
function dimsFit(dims: readonly number[], length: number): boolean {
  let size = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) return false;
    size *= d;
  }
  return size === length;
}

/** True when `dims` match the declared shape without its batch axis (symbolic dims match any size). */
function dimsMatch(dims: readonly number[], shape: readonly (number | string)[]): boolean {
  if (dims.length !== shape.length - 1) return false;
  for (let k = 0; k < dims.length; k++) {
    const d = shape[k + 1];
    if (typeof d === 'number' && d !== dims[k]) return false;
  }
  return true;
}

// Runs once per element and input on the hot path: one tag lookup, no intermediate arrays.
/** Checks one element's value for one input against the declared type and shape. */
function checkInput(value: unknown, input: OnnxInputInfo, position: number): ElementInput {
  let data: OnnxTypedArray | readonly string[];
  let dims: readonly number[];
  let explicitType: string | undefined;
  const bare = ArrayBuffer.isView(value) ? typeOfData(value) : undefined;
  if (bare !== undefined) {
    data = value as OnnxTypedArray;
    dims = dimsOfBareArray(data, input, position);
  } else if (isTensorLike(value)) {
    ({ data, dims } = value);
    explicitType = value.type;
  } else {
    throw new InvalidExampleError(
      `${where(position, input.name)}: expected an ort.Tensor, \`{ data, dims }\` or a typed array, got ${describeValue(value)}.`,
      position,
      input.name,
    );
  }
  const tag = arrayTag(data);
  const dataType = bare ?? typeOfTag(tag);
  const actualType = (explicitType ?? dataType) as OnnxTensorType | undefined;
  const type = input.type ?? actualType;
  if (
    type === undefined ||
    dataType === undefined ||
    (explicitType !== undefined && explicitType !== type) ||
    tag !== ARRAY_TAG[type]
  ) {
    throw new InvalidExampleError(
      `${where(position, input.name)}: expected dtype ${type ?? 'a tensor type'}, got ${actualType ?? 'unknown'} ` +
        `(${tag}).`,
      position,
      input.name,
    );
  }
  if (!dimsFit(dims, data.length)) {
    throw new InvalidExampleError(
      `${where(position, input.name)}: dims ${formatDims(dims)} do not fit its ${data.length} values.`,
      position,
      input.name,
    );
  }
  if (input.shape !== undefined && !dimsMatch(dims, input.shape)) {
    throw new InvalidExampleError(
      `${where(position, input.name)}: expected dims ${formatDims(input.shape.slice(1))} (the model's input shape ` +
        `${formatDims(input.shape)} without its batch axis), got ${formatDims(dims)}.`,
      position,
      input.name,
    );
  }
  return { type, data, dims };
}

/**
 * Normalizes one example into one checked value per model input, in input order. An example is a tensor or typed
 * array (single-input models) or a record input name → tensor; missing and unknown input names are errors.
 */
export function readExample(example: unknown, inputs: readonly OnnxInputInfo[], position: number): ElementInput[] {
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

/**
 * A checked batch: per input, the type and per-element dims that every element shares, and each element's data
 * (`data[input][position]`, one slot per element: no per-element objects on the common path).
 */
export interface CheckedBatch {
  readonly types: readonly OnnxTensorType[];
  readonly dims: readonly (readonly number[])[];
  readonly data: readonly (OnnxTypedArray | readonly string[])[][];
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
  return true;
}

/**
 * The data of `example` when it has exactly the form of element 0 (single-input models): the same kind (bare typed
 * array or tensor), array class, explicit type, length and dims — then `readExample` would accept it with the same
 * type and dims, so it is not checked again; `undefined` otherwise (it is then read and checked in full).
 */
function sameForm(example: unknown, first: unknown, tag: string, length: number): OnnxTypedArray | undefined {
  if (ArrayBuffer.isView(example)) {
    if (!ArrayBuffer.isView(first)) return undefined;
    const data = example as OnnxTypedArray;
    return data.length === length && arrayTag(data) === tag ? data : undefined;
  }
  if (example === null || typeof example !== 'object' || ArrayBuffer.isView(first)) return undefined;
  const value = example as Partial<TensorLike>;
  const model = first as TensorLike;
  const data = value.data as OnnxTypedArray | undefined;
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
export function readBatch(batch: readonly unknown[], inputs: readonly OnnxInputInfo[]): CheckedBatch {
  const n = batch.length;
  const first = readExample(batch[0], inputs, 0);
  const types = first.map((f) => f.type);
  const dims = first.map((f) => f.dims);
  const data = first.map((f) => {
    const column = new Array<OnnxTypedArray | readonly string[]>(n);
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
        throw new InvalidExampleError(
          `${where(p, inputs[k].name)}: dims ${formatDims(b)} differ from element 0's ${formatDims(a)}; elements of ` +
            `different shapes cannot share a batch (OnnxModelHandler.batchConfig() keys batches by shape).`,
          p,
          inputs[k].name,
        );
      }
      data[k][p] = element[k].data;
    }
  }
  return { types, dims, data };
}

/**
 * Rejects NaN and ±Infinity in float inputs (unless `allowNonFinite`), naming the first such element, the input and
 * the index: one scan per input over the whole batch (WebAssembly SIMD, see `firstNonFiniteIn`).
 */
export function checkFinite(batch: CheckedBatch, inputs: readonly OnnxInputInfo[]): void {
  const n = batch.data[0].length;
  for (let k = 0; k < inputs.length; k++) {
    const type = batch.types[k];
    if (type !== 'float32' && type !== 'float64') continue;
    const bad = firstNonFiniteIn(batch.data[k] as FloatData[], 0, n);
    if (bad !== undefined) {
      throw new InvalidExampleError(
        `${where(bad.position, inputs[k].name)}: ${nonFiniteMessage(bad.value, bad.index)}`,
        bad.position,
        inputs[k].name,
      );
    }
  }
}

/** A stacked input of one run: plain fields, for `new ort.Tensor(type, data, dims)` or a worker's message. */
export interface PackedTensor {
  readonly type: OnnxTensorType;
  readonly data: OnnxTypedArray | string[];
  readonly dims: readonly number[];
}

/**
 * Stacks elements `[start, end)` into one tensor per input: the batch buffer is allocated once (`runSize` rows,
 * zero-padded past `end - start` for fixed-batch models) and each element's data is `set()` at its offset.
 */
export function packRun(
  batch: CheckedBatch,
  inputs: readonly OnnxInputInfo[],
  start: number,
  end: number,
  runSize: number,
): Record<string, PackedTensor> {
  const feeds: Record<string, PackedTensor> = {};
  inputs.forEach((input, k) => {
    const type = batch.types[k];
    const dims = batch.dims[k];
    const column = batch.data[k];
    const size = sizeOfDims(dims);
    const buffer = allocateData(type, runSize * size);
    if (Array.isArray(buffer)) {
      for (let p = start; p < end; p++) {
        const data = column[p] as readonly string[];
        for (let j = 0; j < size; j++) buffer[(p - start) * size + j] = data[j];
      }
    } else {
      const typed = buffer as unknown as { set(source: ArrayLike<unknown>, offset: number): void };
      for (let p = start; p < end; p++) typed.set(column[p] as ArrayLike<unknown>, (p - start) * size);
    }
    feeds[input.name] = { type, data: buffer, dims: [runSize, ...dims] };
  });
  return feeds;
}
