import type { OipDatatype } from './oipDatatypes.js';

/** One input or output of a served model, as the protocol's `$metadata_tensor` describes it. */
export interface ServedTensor {
  /** The model's name for it. */
  readonly name: string;
  /** Element type, in the protocol's names. */
  readonly datatype: OipDatatype;
  /**
   * Shape with the batch axis first; `-1` for a variable size. `undefined` when the model does not declare its shape:
   * then any shape is passed on and the model decides.
   */
  readonly shape: readonly number[] | undefined;
}

/** What the Open Inference Protocol server knows about the model it serves (built from the model's signature). */
export interface ServedModel {
  /** The name in the routes: `/v2/models/NAME`. */
  readonly name: string;
  /** The version the routes accept (`/v2/models/NAME/versions/VERSION`) and the responses name. */
  readonly version: string;
  /** The protocol's platform string, e.g. `onnx_onnxv1`. */
  readonly platform: string;
  readonly inputs: readonly ServedTensor[];
  readonly outputs: readonly ServedTensor[];
  /** How an example is handed to the handler: ONNX `{ data, dims, type }` or TF.js `{ data, shape, dtype }`. */
  readonly tensorFormat: 'onnx' | 'tfjs';
}
