import type { OnnxTensorType } from '../handlers/onnx/onnxTensors.js';

/** A tensor element type in the Open Inference Protocol's names (its "Tensor Data Types" table). */
export type OipDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/** Element types of the runtimes (onnxruntime's names; TF.js uses float32, int32 and bool of them). */
export type RuntimeDtype = OnnxTensorType;

const TO_OIP: Readonly<Record<RuntimeDtype, OipDatatype>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

const FROM_OIP: Readonly<Record<string, RuntimeDtype>> = Object.fromEntries(
  Object.entries(TO_OIP).map(([runtime, oip]) => [oip, runtime as RuntimeDtype]),
);

/** The protocol's name of a runtime element type (`'float32'` → `'FP32'`), or `undefined` for an unknown one. */
export function toOipDatatype(dtype: string): OipDatatype | undefined {
  return Object.prototype.hasOwnProperty.call(TO_OIP, dtype) ? TO_OIP[dtype as RuntimeDtype] : undefined;
}

/** The runtime element type of a protocol datatype (`'FP32'` → `'float32'`), or `undefined` for an unknown one. */
export function fromOipDatatype(datatype: string): RuntimeDtype | undefined {
  return Object.prototype.hasOwnProperty.call(FROM_OIP, datatype) ? FROM_OIP[datatype] : undefined;
}
