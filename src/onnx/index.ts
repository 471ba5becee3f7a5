// `rxjs-inference/onnx`: the ONNX Runtime handlers. Its declarations reference onnxruntime-node's types only, so a
// project with onnxruntime-node (and no TensorFlow.js) compiles with `skipLibCheck: false`.

/* Handlers */
export { OnnxModelHandler } from '../handlers/onnx/OnnxModelHandler.js';
export { OnnxWorkerModelHandler } from '../handlers/onnx/worker/OnnxWorkerModelHandler.js';
export { onnxGenerate } from '../handlers/onnx/onnxGenerate.js';

/* Types */
export type { OnnxModelHandlerConfig } from '../handlers/onnx/OnnxModelHandler.js';
export type {
  OnnxWorkerModelHandlerConfig,
  OnnxWorkerModel,
  OnnxWorkerInferenceFn,
} from '../handlers/onnx/worker/OnnxWorkerModelHandler.js';
export type { OnnxGenerateConfig, OnnxSamplingConfig } from '../handlers/onnx/onnxGenerate.js';
export type { OnnxInferenceFn, OnnxInferenceContext, NamedOnnxInferenceFn } from '../handlers/onnx/OnnxInferenceFn.js';
export type { OnnxModel, OnnxModelInfo, OnnxInputInfo } from '../handlers/onnx/onnxSession.js';
export type {
  TensorLike,
  OnnxTensorType,
  OnnxTypedArray,
  OnnxTensorInput,
  OnnxExample,
  OnnxInference,
  OnnxTensor,
} from '../handlers/onnx/onnxTensors.js';
