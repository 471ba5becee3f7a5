import type { Tensor } from 'onnxruntime-node';

/** Element types the ONNX handler stacks and splits (onnxruntime's names). */
export type OnnxTensorType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string';

/** A typed array onnxruntime accepts as tensor data (`bool` is a `Uint8Array` of 0/1, `float16` a `Uint16Array`). */
export type OnnxTypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/**
 * A tensor of one element, without the batch axis: its data (row-major) and dims, and optionally its type. Without
 * `type`, the type follows the array (`Float32Array` → `'float32'`, …); a `Uint8Array` also fits a `bool` input and a
 * `Uint16Array` a `float16` input. An `ort.Tensor` has this shape too.
 *
 * @example
 * const example: TensorLike = { data: Float32Array.of(0.1, 0.2, 0.3), dims: [3] };
 */
export interface TensorLike {
  /** The element's values, row-major. */
  readonly data: OnnxTypedArray | readonly string[];
  /** The element's dims (no batch axis); their product is `data.length`. */
  readonly dims: readonly number[];
  /** Element type. @default inferred from `data` */
  readonly type?: OnnxTensorType;
}

/** One input of one element: an `ort.Tensor`, a `TensorLike`, or a bare typed array (single 1-D input models). */
export type OnnxTensorInput = Tensor | TensorLike | OnnxTypedArray;

/**
 * An example for `OnnxModelHandler`: one element's input (for a single-input model), or a record of input name → input
 * (for any model).
 */
export type OnnxExample = OnnxTensorInput | Readonly<Record<string, OnnxTensorInput>>;

/**
 * One element's share of an ONNX output: a plain view, not an `ort.Tensor` (constructing one per element and output
 * cost more than the rest of the split; issue 11). `data` is a `subarray` of the run's output buffer (no copy; copy
 * it with `data.slice()` before mutating it, or to let the rest of the batch's buffer be collected); `dims` has no
 * batch axis and is frozen (shared by the batch's elements). It is a `TensorLike`, so it can be fed to another ONNX
 * handler as is; `new ort.Tensor(t.type, t.data, t.dims)` makes an onnxruntime tensor of it where one is needed.
 */
export interface OnnxTensor {
  /** Element type (onnxruntime's name). */
  readonly type: OnnxTensorType;
  /** The element's values, row-major: a view of the batch's output buffer (a copy for `string` outputs). */
  readonly data: OnnxTypedArray | readonly string[];
  /** The element's dims, without the batch axis. */
  readonly dims: readonly number[];
  /** Number of values (the product of `dims`). */
  readonly size: number;
}

/** One element's share of the output: the tensor for a single-output model, else a record output name → tensor. */
export type OnnxInference = OnnxTensor | Readonly<Record<string, OnnxTensor>>;

/** The typed-array class name (`'Float32Array'`) of each type: realm-independent, unlike `instanceof`. */
export const ARRAY_TAG: Readonly<Record<OnnxTensorType, string>> = {
  float32: 'Float32Array',
  float64: 'Float64Array',
  float16: 'Uint16Array',
  int8: 'Int8Array',
  uint8: 'Uint8Array',
  int16: 'Int16Array',
  uint16: 'Uint16Array',
  int32: 'Int32Array',
  uint32: 'Uint32Array',
  int64: 'BigInt64Array',
  uint64: 'BigUint64Array',
  bool: 'Uint8Array',
  string: 'Array',
};

const TYPE_OF_TAG: Readonly<Record<string, OnnxTensorType>> = {
  Float32Array: 'float32',
  Float64Array: 'float64',
  Int8Array: 'int8',
  Uint8Array: 'uint8',
  Int16Array: 'int16',
  Uint16Array: 'uint16',
  Int32Array: 'int32',
  Uint32Array: 'uint32',
  BigInt64Array: 'int64',
  BigUint64Array: 'uint64',
  Array: 'string',
};

// %TypedArray%.prototype[Symbol.toStringTag] reads the array's internal type name: fast, and right for arrays from
// any realm (jest, vm contexts, the native addon), unlike `instanceof`.
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)
  ?.get as ((this: unknown) => string | undefined) | undefined;

/** The class name of a typed array (or `'Array'`), whatever realm created it. */
export function arrayTag(data: unknown): string {
  if (Array.isArray(data)) return 'Array';
  return typedArrayTag?.call(data) ?? Object.prototype.toString.call(data).slice(8, -1);
}

/** The type a data array implies when no `type` is given, or `undefined` for something that is not tensor data. */
export function typeOfData(data: unknown): OnnxTensorType | undefined {
  if (Array.isArray(data)) return 'string';
  return ArrayBuffer.isView(data) ? TYPE_OF_TAG[arrayTag(data)] : undefined;
}

/** The type a typed-array class name implies (`'Float32Array'` → `'float32'`). */
export function typeOfTag(tag: string): OnnxTensorType | undefined {
  return Object.prototype.hasOwnProperty.call(TYPE_OF_TAG, tag) ? TYPE_OF_TAG[tag] : undefined;
}

/** True when `value` is tensor-shaped (`{ data, dims: number[] }`): an `ort.Tensor` or a `TensorLike`. */
export function isTensorLike(value: unknown): value is TensorLike {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return false;
  const v = value as { dims?: unknown; data?: unknown };
  return Array.isArray(v.dims) && (ArrayBuffer.isView(v.data) || Array.isArray(v.data));
}

/** A new zero-filled array for `length` values of `type`, in this realm. */
export function allocateData(type: OnnxTensorType, length: number): OnnxTypedArray | string[] {
  switch (type) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int8':
      return new Int8Array(length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(length);
    case 'int16':
      return new Int16Array(length);
    case 'uint16':
    case 'float16':
      return new Uint16Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'uint32':
      return new Uint32Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'uint64':
      return new BigUint64Array(length);
    case 'string':
      return new Array<string>(length).fill('');
  }
}

/** Product of dims (1 for a scalar). */
export function sizeOfDims(dims: readonly number[]): number {
  let size = 1;
  for (const d of dims) size *= d;
  return size;
}

/** `[1, 2, 3]` as `[1, 2, 3]`; symbolic dims by name. */
export function formatDims(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}
