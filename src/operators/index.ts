/* Operators */
export { runInference } from './runInference.js';
export { streamInference } from './streamInference.js';
export { withExceptionHandling } from './withExceptionHandling.js';
export { isExceptionAwareStage } from './ExceptionAwareStage.js';
export { partitionFailures } from './partitionFailures.js';
export { batchElements } from './batchElements.js';
export { BatchSizeEstimator } from '../batching/BatchSizeEstimator.js';
export { watchFilePattern } from './watchFilePattern.js';

/* Types */
export type { InferenceEvent } from '../core/InferenceEvent.js';
export type { BatchElementsConfig, BatchKey } from '../batching/BatchElementsConfig.js';
export type { WatchFilePatternConfig } from './watchFilePattern.js';
export type { WithExceptionHandlingConfig } from './withExceptionHandling.js';
export type { ExceptionAwareStage, ExceptionModeConfig } from './ExceptionAwareStage.js';
export type { TracerLike, SpanLike, SpanAttributes, BatchOutcome } from '../engine/BatchSpan.js';
export type { RunInferenceConfig, RunInferenceOperator, HandlerInput, HandlerOutput } from './runInference.js';
