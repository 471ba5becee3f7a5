/** Element types the tensor layer reads, stacks and splits (onnxruntime's names; TF.js uses float32, int32, bool). */
export type TensorType =
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
export type TensorTypedArray =
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
