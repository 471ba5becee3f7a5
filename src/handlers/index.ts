/* Handlers */
export { OnnxModelHandler } from './onnx/OnnxModelHandler.js';
export { ModelHandler } from '../models/ModelHandler.js';

/* Types */
export type { OnnxModelHandlerConfig } from './onnx/OnnxModelHandler.js';
export type { OnnxModel, OnnxInputInfo } from './onnx/onnxSession.js';
export type {
  TensorLike,
  OnnxTensorType,
  OnnxTypedArray,
  OnnxTensorInput,
  OnnxExample,
  OnnxInference,
} from './onnx/onnxTensors.js';
