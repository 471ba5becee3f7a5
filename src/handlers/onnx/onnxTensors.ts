import type { Tensor } from 'onnxruntime-node';
import type { TensorLike } from '../../tensors/TensorLike.js';
import type { TensorView } from '../../tensors/TensorView.js';
import type { TensorType, TensorTypedArray } from '../../tensors/TensorType.js';

export type { TensorLike } from '../../tensors/TensorLike.js';

/** Element types the ONNX handler stacks and splits (onnxruntime's names): the tensor layer's `TensorType`. */
export type OnnxTensorType = TensorType;

/** A typed array onnxruntime accepts as tensor data (`bool` is a `Uint8Array` of 0/1, `float16` a `Uint16Array`). */
export type OnnxTypedArray = TensorTypedArray;

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
export type OnnxTensor = TensorView;

/** One element's share of the output: the tensor for a single-output model, else a record output name → tensor. */
export type OnnxInference = OnnxTensor | Readonly<Record<string, OnnxTensor>>;
