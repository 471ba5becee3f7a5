/* Handlers */
export { TransformersPipelineHandler } from './transformers/TransformersPipelineHandler.js';
export { TfjsModelHandler } from './tfjs/TfjsModelHandler.js';
export { OnnxModelHandler } from './onnx/OnnxModelHandler.js';
export { OnnxWorkerModelHandler } from './onnx/worker/OnnxWorkerModelHandler.js';
export { onnxGenerate } from './onnx/onnxGenerate.js';
export { PartialOutput, partialOutput } from '../core/PartialOutput.js';
export { RemoteModelHandler } from './remote/RemoteModelHandler.js';
export { AdaptiveThrottler } from './remote/AdaptiveThrottler.js';
export { isRetryableError } from './remote/retryPolicy.js';
export { ModelHandler, DelegatingModelHandler } from '../models/ModelHandler.js';
export { modelHandler } from '../models/custom/modelHandlerFactory.js';
export { KeyedModelHandler } from '../models/KeyedModelHandler.js';
export { MaybeKeyedModelHandler, isKeyedElement } from '../models/MaybeKeyedModelHandler.js';

/* Types */
export type {
  TransformersPipelineHandlerConfig,
  TransformersTask,
  TransformersPipeline,
  TransformersLabel,
  TransformersInference,
} from './transformers/TransformersPipelineHandler.js';
export type { TfjsModelHandlerConfig, TfjsOutputMode, TfjsPrediction } from './tfjs/TfjsModelHandler.js';
export type { TfjsModel, TfjsModelType } from './tfjs/TfjsModel.js';
export type {
  TfjsBackendName,
  TfjsLogger,
  TfjsModule,
  TfjsRuntimeImporter,
  TfjsRuntimePackage,
} from './tfjs/tfjsRuntime.js';
export type {
  TfjsExample,
  TfjsTensorLike,
  TfjsTensorData,
  TfjsNestedArray,
  TfjsTypedArray,
  TfjsNumericDType,
  TfjsInputSpec,
} from './tfjs/tfjsExamples.js';
export type { TfjsOutput, TfjsInference, TfjsTensorInference } from './tfjs/tfjsOutputs.js';
export type { ModelHandlerConfig } from '../models/custom/modelHandlerFactory.js';
export type { KeyMhMapping, KeyedModelHandlerConfig } from '../models/KeyedModelHandler.js';
export type { KeyedModelManager, KeyedModelGroup } from '../models/KeyedModelManager.js';
export type { MaybeKeyedModelHandlerConfig } from '../models/MaybeKeyedModelHandler.js';
export type { OnnxModelHandlerConfig } from './onnx/OnnxModelHandler.js';
export type { OnnxGenerateConfig, OnnxSamplingConfig } from './onnx/onnxGenerate.js';
export type { OnnxInferenceFn, OnnxInferenceContext, NamedOnnxInferenceFn } from './onnx/OnnxInferenceFn.js';
export type {
  OnnxWorkerModelHandlerConfig,
  OnnxWorkerModel,
  OnnxWorkerInferenceFn,
} from './onnx/worker/OnnxWorkerModelHandler.js';
export type { OnnxModel, OnnxModelInfo, OnnxInputInfo } from './onnx/onnxSession.js';
export type { OnnxDevice, OnnxExecutionDevice } from './onnx/onnxDevice.js';
export type {
  TensorLike,
  OnnxTensorType,
  OnnxTypedArray,
  OnnxTensorInput,
  OnnxExample,
  OnnxInference,
  OnnxTensor,
} from './onnx/onnxTensors.js';
export type {
  RemoteModelHandlerConfig,
  RemoteRequestContext,
  RemoteThrottleConfig,
  RemoteModelStats,
  DefaultRemoteClient,
} from './remote/RemoteModelHandler.js';
export type { AdaptiveThrottlerConfig } from './remote/AdaptiveThrottler.js';
export type { RetryConfig } from './remote/retryPolicy.js';
export type { HttpErrorOptions, HeadersLike } from './remote/HttpError.js';
export type { RemoteFailureReason } from './remote/RemoteInferenceError.js';

/* Errors */
export { HttpError } from './remote/HttpError.js';
export { RemoteInferenceError } from './remote/RemoteInferenceError.js';
