import type { Tensor } from '@tensorflow/tfjs';
import { InvalidExampleError } from '../../core/errors.js';
import { sizeOfDims } from '../../tensors/dims.js';
import { typeOfData } from '../../tensors/dtypeTable.js';
import { failElement } from '../../tensors/elementError.js';

/** Element dtypes the handler packs: TensorFlow.js's numeric dtypes (`bool` is a `Uint8Array` of 0/1). */
export type TfjsNumericDType = 'float32' | 'int32' | 'bool';

/** The typed arrays of the numeric dtypes. */
export type TfjsTypedArray = Float32Array | Int32Array | Uint8Array;

/** Nested plain number arrays, e.g. `[[1, 2], [3, 4]]` for a `[2, 2]` element. */
export type TfjsNestedArray = readonly (number | TfjsNestedArray)[];

/**
 * One element's tensor as flat data with its shape (without the batch dimension). `data` is a typed array (whose
 * type gives the dtype: `Float32Array` float32, `Int32Array` int32, `Uint8Array` bool) or plain numbers (converted to
 * the model's input dtype). `dtype`, when given, must agree with a typed array.
 */
export interface TfjsTensorData {
  readonly data: TfjsTypedArray | readonly number[];
  readonly shape: readonly number[];
  readonly dtype?: TfjsNumericDType;
}

/** One input of one element: a `tf.Tensor` (not disposed by the handler), flat data with a shape, or nested numbers. */
export type TfjsTensorLike = Tensor | TfjsTensorData | TfjsNestedArray;

/**
 * One element: a tensor-like for a single-input model, or a record of input name → tensor-like (every input of a
 * multi-input model, named as the model names them).
 */
export type TfjsExample = TfjsTensorLike | Readonly<Record<string, TfjsTensorLike>>;

/** What the model declares for one input: its name, per-element shape (`null` = any size) and dtype. */
export interface TfjsInputSpec {
  readonly name: string;
  /** Shape without the batch dimension; `undefined` when the model does not declare it. */
  readonly shape: readonly (number | null)[] | undefined;
  readonly dtype: string | undefined;
}

/** One input of one element, recognised. */
export type DescribedInput =
  | { readonly kind: 'tensor'; readonly shape: readonly number[]; readonly dtype: string; readonly tensor: Tensor }
  | {
      readonly kind: 'typed';
      readonly shape: readonly number[];
      readonly dtype: TfjsNumericDType;
      readonly data: TfjsTypedArray;
    }
  | { readonly kind: 'numbers'; readonly shape: readonly number[]; readonly data: readonly number[] }
  | { readonly kind: 'nested'; readonly shape: readonly number[]; readonly data: TfjsNestedArray };

export function isTensor(x: unknown): x is Tensor {
  const t = x as { dataSync?: unknown; shape?: unknown; dtype?: unknown } | null;
  return t !== null && typeof t === 'object' && typeof t.dataSync === 'function' && Array.isArray(t.shape);
}

function isTensorData(x: unknown): x is TfjsTensorData {
  const t = x as { data?: unknown; shape?: unknown } | null;
  return (
    t !== null &&
    typeof t === 'object' &&
    Array.isArray(t.shape) &&
    (ArrayBuffer.isView(t.data) || Array.isArray(t.data))
  );
}

/** True when `x` is one tensor-like rather than a record of named inputs. */
export function isTensorLike(x: unknown): x is TfjsTensorLike {
  return Array.isArray(x) || isTensor(x) || isTensorData(x);
}

/** The dtype a typed array gives (`Uint8Array` → bool), whatever realm created it; `undefined` for other arrays. */
export function typedDType(data: ArrayBufferView): TfjsNumericDType | undefined {
  const type = typeOfData(data);
  return type === 'float32' || type === 'int32' ? type : type === 'uint8' ? 'bool' : undefined;
}

export const sizeOf = sizeOfDims;

export function showShape(shape: readonly (number | null)[] | undefined): string {
  return shape === undefined ? 'unknown' : `[${shape.map((d) => (d === null ? '?' : d)).join(', ')}]`;
}

/** Shape of nested arrays, read along the first element of each level (the full check happens when packing). */
function nestedShape(x: TfjsNestedArray): number[] {
  const shape: number[] = [];
  let level: unknown = x;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

/** Recognises one input of one element and checks its own consistency (data length vs shape). */
export function describeInput(x: unknown, position: number, field: string): DescribedInput {
  if (isTensor(x)) {
    if (x.isDisposed) failElement(position, field, 'the tensor is disposed.');
    return { kind: 'tensor', shape: x.shape, dtype: x.dtype, tensor: x };
  }
  if (isTensorData(x)) {
    const shape = x.shape;
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      failElement(position, field, `\`shape\` must hold non-negative integers, got ${showShape(shape)}.`);
    }
    if (x.data.length !== sizeOf(shape)) {
      failElement(
        position,
        field,
        `\`data\` has ${x.data.length} values but shape ${showShape(shape)} needs ${sizeOf(shape)}.`,
      );
    }
    if (Array.isArray(x.data)) return { kind: 'numbers', shape, data: x.data };
    const dtype = typedDType(x.data as ArrayBufferView);
    if (dtype === undefined) {
      failElement(
        position,
        field,
        `\`data\` must be a Float32Array, Int32Array, Uint8Array or number[], got ${x.data.constructor.name}.`,
      );
    }
    if (x.dtype !== undefined && x.dtype !== dtype) {
      failElement(
        position,
        field,
        `\`dtype\` is '${x.dtype}' but \`data\` is a ${x.data.constructor.name} (${dtype}).`,
      );
    }
    return { kind: 'typed', shape, dtype, data: x.data as TfjsTypedArray };
  }
  if (Array.isArray(x)) return { kind: 'nested', shape: nestedShape(x), data: x };
  const got = x === null ? 'null' : typeof x === 'object' ? `an object without \`data\` and \`shape\`` : typeof x;
  return failElement(position, field, `expected a tf.Tensor, { data, shape } or nested number arrays, got ${got}.`);
}

/**
 * Splits an element into its named inputs. A tensor-like goes to the model's only input; a record must name every
 * input of the model and nothing else.
 */
export function inputsOf(example: unknown, position: number, inputs: readonly TfjsInputSpec[]): DescribedInput[] {
  if (isTensorLike(example)) {
    if (inputs.length !== 1) {
      const names = inputs.map((i) => `\`${i.name}\``).join(', ');
      throw new InvalidExampleError(
        `Element ${position} of the batch: the model has ${inputs.length} inputs (${names}); give a record of input name → tensor.`,
        position,
        undefined,
      );
    }
    return [describeInput(example, position, (inputs[0] as TfjsInputSpec).name)];
  }
  if (example === null || typeof example !== 'object') {
    const field = inputs.length === 1 ? (inputs[0] as TfjsInputSpec).name : undefined;
    throw new InvalidExampleError(
      `Element ${position} of the batch: expected a tf.Tensor, { data, shape }, nested number arrays or a record of them, got ` +
        `${example === null ? 'null' : typeof example}.`,
      position,
      field,
    );
  }
  const record = example as Record<string, unknown>;
  const unknownNames = Object.keys(record).filter((k) => !inputs.some((i) => i.name === k));
  if (unknownNames.length > 0) {
    throw new InvalidExampleError(
      `Element ${position} of the batch: unknown input \`${unknownNames[0]}\`; the model's inputs are ` +
        `${inputs.map((i) => `\`${i.name}\``).join(', ')}.`,
      position,
      unknownNames[0],
    );
  }
  return inputs.map((spec) => {
    if (!(spec.name in record)) {
      throw new InvalidExampleError(
        `Element ${position} of the batch: input \`${spec.name}\` is missing.`,
        position,
        spec.name,
      );
    }
    return describeInput(record[spec.name], position, spec.name);
  });
}

/** The batch key of one tensor-like: its shape and dtype (`number` for plain numbers, converted later). */
function keyOf(x: unknown): string {
  if (isTensor(x)) return `${x.shape.join('x')}:${x.dtype}`;
  if (isTensorData(x)) {
    const dtype = ArrayBuffer.isView(x.data) ? (typedDType(x.data) ?? 'other') : 'number';
    return `${x.shape.join('x')}:${dtype}`;
  }
  if (Array.isArray(x)) return `${nestedShape(x).join('x')}:number`;
  return 'invalid';
}

/**
 * The batch key of an element, so that elements of different shapes or dtypes never stack. Never throws: a value
 * it cannot read gets its own key and fails, with a clear error, in `runInference`.
 */
export function tfjsBatchKey(example: unknown): string {
  if (isTensorLike(example)) return keyOf(example);
  if (example === null || typeof example !== 'object') return 'invalid';
  const record = example as Record<string, unknown>;
  return Object.keys(record)
    .sort()
    .map((name) => `${name}=${keyOf(record[name])}`)
    .join(';');
}

const BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/** Byte size of an element, for the batch byte-size metric. */
export function tfjsExampleBytes(example: unknown): number {
  const one = (x: unknown): number => {
    if (isTensor(x)) return x.size * (BYTES[x.dtype] ?? 4);
    if (isTensorData(x)) return ArrayBuffer.isView(x.data) ? x.data.byteLength : x.data.length * 4;
    if (Array.isArray(x)) return sizeOf(nestedShape(x)) * 4;
    return 0;
  };
  if (isTensorLike(example)) return one(example);
  if (example === null || typeof example !== 'object') return 0;
  return Object.values(example as Record<string, unknown>).reduce<number>((n, x) => n + one(x), 0);
}
