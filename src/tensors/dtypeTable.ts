import type { TensorType, TensorTypedArray } from './TensorType.js';

type TypedArrayClass = new (length: number) => TensorTypedArray;

/**
 * The one dtype table: the array class of each tensor element type (`bool` is a `Uint8Array` of 0/1, `float16` a
 * `Uint16Array` of its bits, `string` a plain array). Everything else about dtypes here is derived from it.
 */
const ARRAY_CLASS: Readonly<Record<TensorType, TypedArrayClass | ArrayConstructor>> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
  string: Array,
};

const TYPES = Object.keys(ARRAY_CLASS) as TensorType[];

/** The typed-array class name (`'Float32Array'`) of each type: realm-independent, unlike `instanceof`. */
export const ARRAY_TAG: Readonly<Record<TensorType, string>> = Object.fromEntries(
  TYPES.map((type) => [type, ARRAY_CLASS[type].name]),
) as Record<TensorType, string>;

/** The type an array class name implies without a `type`: `bool` and `float16` share others' classes, so never. */
const TYPE_OF_TAG: Readonly<Record<string, TensorType>> = Object.fromEntries(
  TYPES.filter((type) => type !== 'bool' && type !== 'float16').map((type) => [ARRAY_TAG[type], type]),
);

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
export function typeOfData(data: unknown): TensorType | undefined {
  if (Array.isArray(data)) return 'string';
  return ArrayBuffer.isView(data) ? TYPE_OF_TAG[arrayTag(data)] : undefined;
}

/** The type a typed-array class name implies (`'Float32Array'` → `'float32'`). */
export function typeOfTag(tag: string): TensorType | undefined {
  return Object.prototype.hasOwnProperty.call(TYPE_OF_TAG, tag) ? TYPE_OF_TAG[tag] : undefined;
}

/**
 * A new zero-filled array for `length` values of tensor element type `type`, in this realm: the one dtype → typed
 * array table (`bool` is a `Uint8Array`, `float16` a `Uint16Array`, `string` an array of `''`).
 *
 * @example
 * allocateTensorData('int64', 3); // BigInt64Array [0n, 0n, 0n]
 */
export function allocateTensorData(type: TensorType, length: number): TensorTypedArray | string[] {
  return type === 'string' ? new Array<string>(length).fill('') : new (ARRAY_CLASS[type] as TypedArrayClass)(length);
}

/**
 * An array for `length` values of numeric type `type` over `buffer` from byte 0 (which must hold them): a view, no
 * copy, no zero-fill.
 */
export function viewTensorData(
  type: Exclude<TensorType, 'string'>,
  buffer: ArrayBuffer,
  length: number,
): TensorTypedArray {
  const View = ARRAY_CLASS[type] as unknown as new (
    buffer: ArrayBuffer,
    byteOffset: number,
    length: number,
  ) => TensorTypedArray;
  return new View(buffer, 0, length);
}

/** Bytes per value of numeric type `type`. */
export function bytesPerValue(type: Exclude<TensorType, 'string'>): number {
  return (ARRAY_CLASS[type] as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
}
