import type { TensorType, TensorTypedArray } from './TensorType.js';

/**
 * One element's share of a batched output (ONNX: `OnnxTensor`): a plain view, not an `ort.Tensor` (constructing one per element and output
 * cost more than the rest of the split; issue 11). `data` is a `subarray` of the run's output buffer (no copy; copy
 * it with `data.slice()` before mutating it, or to let the rest of the batch's buffer be collected); `dims` has no
 * batch axis and is frozen (shared by the batch's elements). It is a `TensorLike`, so it can be fed to another ONNX
 * handler as is; `new ort.Tensor(t.type, t.data, t.dims)` makes an onnxruntime tensor of it where one is needed.
 */
export interface TensorView {
  /** Element type (onnxruntime's name). */
  readonly type: TensorType;
  /** The element's values, row-major: a view of the batch's output buffer (a copy for `string` outputs). */
  readonly data: TensorTypedArray | readonly string[];
  /** The element's dims, without the batch axis. */
  readonly dims: readonly number[];
  /** Number of values (the product of `dims`). */
  readonly size: number;
}
