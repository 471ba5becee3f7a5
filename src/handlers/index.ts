/* Handlers */
export { OnnxModelHandler } from './onnx/OnnxModelHandler.js';
export { ModelHandler } from '../models/ModelHandler.js';
export { modelHandler } from '../models/custom/modelHandler.js';
export { KeyedModelHandler } from '../models/KeyedModelHandler.js';
export { MaybeKeyedModelHandler, isKeyedElement } from '../models/MaybeKeyedModelHandler.js';

/* Types */
export type { ModelHandlerConfig } from '../models/custom/modelHandler.js';
export type { KeyMhMapping, KeyedModelHandlerConfig } from '../models/KeyedModelHandler.js';
export type { KeyedModelManager, KeyedModelGroup } from '../models/KeyedModelManager.js';
export type { MaybeKeyedModelHandlerConfig } from '../models/MaybeKeyedModelHandler.js';
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
