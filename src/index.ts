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

/* Handlers */
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
