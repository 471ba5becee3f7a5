/* Operators */
export { runInference } from './operators/runInference.js';
export { streamInference } from './operators/streamInference.js';
export { withExceptionHandling } from './operators/withExceptionHandling.js';
export { isExceptionAwareStage } from './operators/ExceptionAwareStage.js';
export { partitionFailures } from './operators/partitionFailures.js';
export { batchElements } from './operators/batchElements.js';
export { BatchSizeEstimator } from './batching/BatchSizeEstimator.js';
export { watchFilePattern } from './operators/watchFilePattern.js';

/* Handlers */
export { TransformersPipelineHandler } from './handlers/transformers/TransformersPipelineHandler.js';
export { TfjsModelHandler } from './handlers/tfjs/TfjsModelHandler.js';
export { OnnxModelHandler } from './handlers/onnx/OnnxModelHandler.js';
export { OnnxWorkerModelHandler } from './handlers/onnx/worker/OnnxWorkerModelHandler.js';
export { onnxGenerate } from './handlers/onnx/onnxGenerate.js';
export { PartialOutput, partialOutput } from './core/PartialOutput.js';
export { RemoteModelHandler } from './handlers/remote/RemoteModelHandler.js';
export { AdaptiveThrottler } from './handlers/remote/AdaptiveThrottler.js';
export { isRetryableError } from './handlers/remote/retryPolicy.js';
export { ModelHandler, DelegatingModelHandler } from './models/ModelHandler.js';
export { modelHandler } from './models/custom/modelHandlerFactory.js';
export { KeyedModelHandler } from './models/KeyedModelHandler.js';
export { MaybeKeyedModelHandler, isKeyedElement } from './models/MaybeKeyedModelHandler.js';

/* Serving */
export { createPredictor } from './serving/createPredictor.js';

/* Text */
export { loadTokenizer } from './text/loadTokenizer.js';

/* Testing */
export { FakeModelHandler } from './testing/FakeModelHandler.js';

/* Metrics */
export { MetricsRegistry, defaultMetricsRegistry } from './metrics/MetricsRegistry.js';
export { RunInferenceMetrics } from './metrics/RunInferenceMetrics.js';
export { exportToPrometheus } from './metrics/exportToPrometheus.js';
export { exportToOpenTelemetry } from './metrics/exportToOpenTelemetry.js';

/* Tensors */
export { allocateTensorData } from './tensors/dtypeTable.js';
export { jsonTensorValue } from './tensors/jsonTensorValue.js';

/* Errors */
export {
  InferenceError,
  ModelLoadError,
  InvalidExampleError,
  InferenceTimeoutError,
  BufferOverflowError,
  MissingRuntimeError,
  ProcessingError,
} from './core/errors.js';
export { HttpError } from './handlers/remote/HttpError.js';
export { QueueFullError } from './serving/QueueFullError.js';
export { PredictorClosedError } from './serving/PredictorClosedError.js';
export { RemoteInferenceError } from './handlers/remote/RemoteInferenceError.js';

/* Types */
export type {
  TransformersPipelineHandlerConfig,
  TransformersTask,
  TransformersPipeline,
  TransformersLabel,
  TransformersInference,
} from './handlers/transformers/TransformersPipelineHandler.js';
export type { TextTokenizer, TokenizerSource } from './text/loadTokenizer.js';
export type { InferenceEvent } from './core/InferenceEvent.js';
export type { TensorType, TensorTypedArray } from './tensors/TensorType.js';
export type { JsonTensorValueConfig } from './tensors/jsonTensorValue.js';
export type { FakeModelHandlerConfig, FakeModel } from './testing/FakeModelHandler.js';
export type { TfjsModelHandlerConfig, TfjsOutputMode, TfjsPrediction } from './handlers/tfjs/TfjsModelHandler.js';
export type { TfjsModel, TfjsModelType } from './handlers/tfjs/TfjsModel.js';
export type {
  TfjsBackendName,
  TfjsLogger,
  TfjsModule,
  TfjsRuntimeImporter,
  TfjsRuntimePackage,
} from './handlers/tfjs/tfjsRuntime.js';
export type {
  TfjsExample,
  TfjsTensorLike,
  TfjsTensorData,
  TfjsNestedArray,
  TfjsTypedArray,
  TfjsNumericDType,
  TfjsInputSpec,
} from './handlers/tfjs/tfjsExamples.js';
export type { TfjsOutput, TfjsInference, TfjsTensorInference } from './handlers/tfjs/tfjsOutputs.js';
export type { ModelHandlerConfig } from './models/custom/modelHandlerFactory.js';
export type { KeyMhMapping, KeyedModelHandlerConfig } from './models/KeyedModelHandler.js';
export type { KeyedModelManager, KeyedModelGroup } from './models/KeyedModelManager.js';
export type { MaybeKeyedModelHandlerConfig } from './models/MaybeKeyedModelHandler.js';
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
export type { OnnxGenerateConfig, OnnxSamplingConfig } from './handlers/onnx/onnxGenerate.js';
export type { OnnxInferenceFn, OnnxInferenceContext, NamedOnnxInferenceFn } from './handlers/onnx/OnnxInferenceFn.js';
export type {
  OnnxWorkerModelHandlerConfig,
  OnnxWorkerModel,
  OnnxWorkerInferenceFn,
} from './handlers/onnx/worker/OnnxWorkerModelHandler.js';
export type { OnnxModel, OnnxModelInfo, OnnxInputInfo } from './handlers/onnx/onnxSession.js';
export type { OnnxDevice, OnnxExecutionDevice } from './handlers/onnx/onnxDevice.js';
export type {
  TensorLike,
  OnnxTensorType,
  OnnxTypedArray,
  OnnxTensorInput,
  OnnxExample,
  OnnxInference,
  OnnxTensor,
} from './handlers/onnx/onnxTensors.js';
export type {
  RemoteModelHandlerConfig,
  RemoteRequestContext,
  RemoteThrottleConfig,
  RemoteModelStats,
  DefaultRemoteClient,
} from './handlers/remote/RemoteModelHandler.js';
export type { AdaptiveThrottlerConfig } from './handlers/remote/AdaptiveThrottler.js';
export type { RetryConfig } from './handlers/remote/retryPolicy.js';
export type { HttpErrorOptions, HeadersLike } from './handlers/remote/HttpError.js';
export type { RemoteFailureReason } from './handlers/remote/RemoteInferenceError.js';
export type { Predictor, PredictorConfig, PredictRequestOptions } from './serving/Predictor.js';
export type { WatchFilePatternConfig } from './operators/watchFilePattern.js';
export type { WithExceptionHandlingConfig } from './operators/withExceptionHandling.js';
export type { ExceptionAwareStage, ExceptionModeConfig } from './operators/ExceptionAwareStage.js';
export type {
  RunInferenceConfig,
  RunInferenceOperator,
  HandlerInput,
  HandlerOutput,
} from './operators/runInference.js';
export type { TracerLike, SpanLike, SpanAttributes, BatchOutcome } from './engine/BatchSpan.js';
export type { MetricName, MetricKind, Metric, MetricsSnapshot, MetricListener } from './metrics/MetricsRegistry.js';
export type { Counter } from './metrics/Counter.js';
export type { Distribution, DistributionSnapshot } from './metrics/Distribution.js';
export type { Gauge } from './metrics/Gauge.js';
export type { ExportToPrometheusConfig, PrometheusExport, PromRegistryLike } from './metrics/exportToPrometheus.js';
export type {
  ExportToOpenTelemetryConfig,
  OpenTelemetryExport,
  OtelMeterLike,
  OtelInstrumentOptions,
  OtelObservableLike,
  OtelObservableResultLike,
  OtelAttributes,
} from './metrics/exportToOpenTelemetry.js';
