import type { TensorType, TensorTypedArray } from './TensorType.js';

/** The typed-array class name (`'Float32Array'`) of each type: realm-independent, unlike `instanceof`. */
export const ARRAY_TAG: Readonly<Record<TensorType, string>> = {
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

const TYPE_OF_TAG: Readonly<Record<string, TensorType>> = {
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
