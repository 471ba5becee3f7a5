import type { Observable, SchedulerLike } from 'rxjs';
import type { ResolvedBatchConfig } from '../batching/resolveBatchConfig.js';
import type { ModelLoadError } from '../core/errors.js';
import type { InferenceArgs, ModelUpdate } from '../core/types.js';
import type { RunInferenceMetrics } from '../metrics/RunInferenceMetrics.js';
import type { ModelHandler } from '../models/ModelHandler.js';
import type { TracerLike } from './BatchSpan.js';
import type { EngineMode } from './Emitter.js';

/** Everything one engine needs, resolved and validated by the operator. */
export interface EngineOptions {
  readonly handler: ModelHandler<any, any, any>;
  readonly mode: EngineMode;
  readonly ordered: boolean;
  readonly concurrent: number;
  readonly maxBufferedElements: number;
  readonly batch: ResolvedBatchConfig<any>;
  /** Timers (time bounds, timeouts) and the clock of virtual-time tests. */
  readonly scheduler: SchedulerLike;
  /** Where "end of a synchronous burst" is detected: `asapScheduler` unless the user gave a scheduler. */
  readonly burstScheduler: SchedulerLike;
  readonly clock: () => number;
  /** `clock` is a user scheduler's `now()` (virtual time in tests): arrival times are read per element. */
  readonly schedulerClock: boolean;
  readonly modelMetadata: Observable<ModelUpdate> | undefined;
  readonly modelIdentifier: string | undefined;
  readonly inferenceArgs: InferenceArgs | undefined;
  readonly timeoutMs: number | undefined;
  readonly onModelLoadError: ((error: ModelLoadError, metadata: ModelUpdate) => void) | undefined;
  readonly onModelLoad: ((modelId: string) => void) | undefined;
  readonly metrics: RunInferenceMetrics | undefined;
  /** A span per model call where a tracer is configured. */
  readonly tracer?: TracerLike;
  readonly bisect: boolean;
  /** `streamInference`: partial outputs are delivered, results come as `end` events. */
  readonly stream?: boolean;
  /** An element whose signal has aborted when its batch is formed is taken out and fails with the signal's reason. */
  readonly elementSignal: ((element: unknown, index: number) => AbortSignal | undefined) | undefined;
}
