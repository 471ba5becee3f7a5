import { BatchRunner, type BatchRunnerOptions } from './BatchRunner.js';
import type { EngineOptions } from './EngineOptions.js';

/** Where the engine's batch runner reports: its outputs, failures, partial outputs and timings. */
export type EngineRunnerHooks = Pick<
  BatchRunnerOptions,
  'onOutputs' | 'onBatchOutputs' | 'onFailure' | 'onPartial' | 'onSuccess'
>;

/** The engine's batch runner, from the operator's options (bisection only where failures are values). */
export function engineBatchRunner(options: EngineOptions, noBatching: boolean, hooks: EngineRunnerHooks): BatchRunner {
  return new BatchRunner({
    handler: options.handler,
    scheduler: options.scheduler,
    clock: options.clock,
    inferenceArgs: options.inferenceArgs,
    timeoutMs: options.timeoutMs,
    metrics: options.metrics,
    tracer: options.tracer,
    bisect: options.mode === 'either' && options.bisect,
    noBatching,
    ...hooks,
  });
}
