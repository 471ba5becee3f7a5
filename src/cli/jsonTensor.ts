import {
  allocateTensorData,
  InvalidExampleError,
  jsonTensorValue,
  type TensorType,
  type TensorTypedArray,
} from '../index.js';

/** JSON lines may give a bool input as 0/1 as well as false/true. */
const BOOL_FROM_NUMBERS = { boolFromNumbers: true } as const;

/** Element types the command reads from JSON: the tensor layer's, but float16 (no JSON form is settled for it). */
export type CliDType = Exclude<TensorType, 'float16'>;

/** Typed arrays a JSON value becomes. */
export type CliTypedArray = TensorTypedArray;

/** What the model declares for one input. */
export interface InputSignature {
  /** The model's input name. */
  readonly name: string;
  /** Element type; `float32` when the model does not say. */
  readonly dtype: CliDType;
  /** Per-record dims (no batch axis): a number when fixed, `null` when free; `undefined` when the rank is unknown. */
  readonly dims: readonly (number | null)[] | undefined;
}

/** One record's tensor for one input, read from JSON. */
export interface JsonTensor {
  readonly data: CliTypedArray | string[];
  readonly dims: number[];
  readonly dtype: CliDType;
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** `[1][2]` for flat index 6 of dims `[2, 4]`. */
function position(flat: number, dims: readonly number[]): string {
  if (dims.length === 0) return '';
  const parts: number[] = [];
  for (let d = dims.length - 1; d >= 0; d--) {
    parts.unshift(flat % dims[d]);
    flat = Math.floor(flat / dims[d]);
  }
  return parts.map((p) => `[${p}]`).join('');
}

const EXPECTED: Record<string, string> = {
  float32: 'a finite number within the float32 range (±3.4e38)',
  float64: 'a finite number',
  bool: 'true, false, 0 or 1',
  string: 'a string',
  int64: 'an integer (or a decimal string) in the int64 range',
  uint64: 'a non-negative integer (or a decimal string) in the uint64 range',
};

/** The nested-array shape of a JSON value (`[]` for a scalar), following first elements; raggedness is found later. */
function nestedDims(value: unknown): number[] {
  const dims: number[] = [];
  let current = value;
  while (Array.isArray(current)) {
    dims.push(current.length);
    if (current.length === 0) break;
    current = current[0];
  }
  return dims;
}

/** Product of dims. */
export function sizeOfDims(dims: readonly number[]): number {
  let size = 1;
  for (const d of dims) size *= d;
  return size;
}

/**
 * Resolves a `--shape` (which may hold one `-1`) for `count` values; throws when they do not fit.
 * @internal
 */
export function resolveReshape(shape: readonly number[], count: number, input: string): number[] {
  const free = shape.indexOf(-1);
  const known = sizeOfDims(shape.filter((d) => d !== -1));
  if (free >= 0) {
    if (known === 0 || count % known !== 0) {
      throw new InvalidExampleError(
        `input \`${input}\`: ${count} values cannot be reshaped to [${shape.join(', ')}] (--shape).`,
        undefined,
        input,
      );
    }
    const dims = [...shape];
    dims[free] = count / known;
    return dims;
  }
  if (known !== count) {
    throw new InvalidExampleError(
      `input \`${input}\`: --shape [${shape.join(', ')}] needs ${known} values, got ${count}.`,
      undefined,
      input,
    );
  }
  return [...shape];
}

function showDims(dims: readonly (number | null)[]): string {
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/**
 * Reads one record's value for one model input: a number (scalar) or nested arrays, flattened row-major into a typed
 * array of the input's element type. Dims: `reshape` when given (`--shape`); else the model's declared per-record
 * dims when they are all fixed and the value is flat with the right number of values; else the nesting. The result
 * must agree with the declared dims (rank and every fixed size).
 *
 * Throws an `InvalidExampleError` naming the input and, for a bad value, its position (`features[3]`): ragged
 * arrays, non-numeric or out-of-range values, a wrong number of values, a wrong shape.
 */
export function jsonToTensor(value: unknown, input: InputSignature, reshape?: readonly number[]): JsonTensor {
  const flat = flatFloats(value, input.dtype);
  if (flat !== undefined) return withDims(flat, [flat.length], input, reshape);
  const { name, dtype } = input;
  const shape = nestedDims(value);
  const count = sizeOfDims(shape);
  const data = allocateTensorData(dtype, count) as CliTypedArray | string[];
  let filled = 0;
  const fill = (node: unknown, depth: number): void => {
    if (depth === shape.length) {
      const converted = jsonTensorValue(node, dtype, BOOL_FROM_NUMBERS);
      if (converted === undefined) {
        throw new InvalidExampleError(
          `input \`${name}\`: value${position(filled, shape)} is ${show(node)}, expected ${EXPECTED[dtype] ?? `an integer in the ${dtype} range`}.`,
          undefined,
          name,
        );
      }
      (data as unknown[])[filled++] = converted;
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new InvalidExampleError(
        `input \`${name}\`: ragged array: expected ${shape[depth]} values at depth ${depth} ` +
          `(shape ${showDims(shape)} from the first elements), got ${Array.isArray(node) ? `${node.length}` : show(node)}.`,
        undefined,
        name,
      );
    }
    for (let i = 0; i < node.length; i++) fill(node[i], depth + 1);
  };
  fill(value, 0);
  return withDims(data, shape, input, reshape);
}

/**
 * The common record, a flat array of finite numbers for a float input, read in one loop with no per-value dispatch
 * (issue 11: the main job's hot path); `undefined` for anything else, which takes the general path and its messages.
 */
function flatFloats(value: unknown, dtype: CliDType): Float32Array | Float64Array | undefined {
  if (!Array.isArray(value) || value.length === 0 || (dtype !== 'float32' && dtype !== 'float64')) return undefined;
  const n = value.length;
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v: unknown = value[i];
    // `v - v === 0` holds for finite numbers only (NaN and ±Infinity give NaN).
    if (typeof v !== 'number' || v - v !== 0) return undefined;
    data[i] = v;
    // Beyond float32's range the stored value is ±Infinity: the general path names it.
    if (data[i] - data[i] !== 0) return undefined;
  }
  return data;
}

/**
 * The tensor of a flat array of finite values already read into the input's typed array (the CLI's fast record path,
 * {@link RecordScanner}): the same dims and checks as {@link jsonToTensor} gives the same values as a JSON array.
 */
export function flatTensor(
  data: Float32Array | Float64Array,
  input: InputSignature,
  reshape?: readonly number[],
): JsonTensor {
  return withDims(data, [data.length], input, reshape);
}

/** Gives the values read from JSON (nested as `shape`) their dims, checked against the model's declared dims. */
function withDims(
  data: CliTypedArray | string[],
  shape: number[],
  input: InputSignature,
  reshape: readonly number[] | undefined,
): JsonTensor {
  const { name, dtype } = input;
  const count = data.length;
  const declared = input.dims;
  let dims: number[];
  if (reshape !== undefined) {
    dims = resolveReshape(reshape, count, name);
  } else if (
    declared !== undefined &&
    shape.length <= 1 &&
    declared.every((d): d is number => d !== null) &&
    sizeOfDims(declared) === count
  ) {
    dims = [...declared];
  } else {
    dims = shape;
  }
  if (declared !== undefined) {
    const fits = declared.length === dims.length && declared.every((d, i) => d === null || d === dims[i]);
    if (!fits) {
      throw new InvalidExampleError(
        `input \`${name}\`: wrong shape: the model expects ${showDims(declared)} per record, got ${showDims(dims)}` +
          (shape.length <= 1 ? ` (${count} values)` : '') +
          '.',
        undefined,
        name,
      );
    }
  }
  return { data, dims, dtype };
}
