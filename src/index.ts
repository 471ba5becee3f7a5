/* Types */
export type {
  PredictionResult,
  ModelMetadata,
  KeyModelPathMapping,
  ModelUpdate,
  InferenceArgs,
  InferenceContext,
  FailureStage,
  FailedRecord,
} from './core/types.js';
export type { BatchElementsConfig, BatchKey } from './batching/BatchElementsConfig.js';
export type { ModelLoadResult, InferenceResult, PreprocessFn, PostprocessFn } from './models/ModelHandler.js';
export type { OnnxModelHandlerConfig } from './handlers/onnx/OnnxModelHandler.js';
export type { OnnxModel, OnnxInputInfo } from './handlers/onnx/onnxSession.js';
export type {
  TensorLike,
  OnnxTensorType,
  OnnxTypedArray,
  OnnxTensorInput,
  OnnxExample,
  OnnxInference,
} from './handlers/onnx/onnxTensors.js';

/* Handlers */
export { OnnxModelHandler } from './handlers/onnx/OnnxModelHandler.js';
export { ModelHandler } from './models/ModelHandler.js';

/* Errors */
export {
  InferenceError,
  ModelLoadError,
  InvalidExampleError,
  InferenceTimeoutError,
  BufferOverflowError,
  MissingRuntimeError,
} from './core/errors.js';
