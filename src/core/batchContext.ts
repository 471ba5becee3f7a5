import type { SchedulerLike } from 'rxjs';
import type { InferenceArgs, InferenceContext } from './types.js';

/**
 * The abort side of one model call: an `AbortController` whose signal is only created when a handler reads
 * `context.signal`. Node creates an `AbortSignal` (an `EventTarget`) on the first `.signal` read, and that cost
 * 2–3 µs warm and ≈ 20 µs on a cold CPU per batch — paid by every batch of one element at low load (issue 11, P3).
 */
export class BatchAbort {
  private readonly controller = new AbortController();
  /** Whether {@link abort} was called (the only way this signal is aborted). */
  aborted = false;

  /** The call's signal (created now if it was not yet). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason?: unknown): void {
    this.aborted = true;
    this.controller.abort(reason);
  }
}

/** Contexts made by {@link batchContext}, with their abort side. */
const engineAborts = new WeakMap<InferenceContext, BatchAbort>();

/**
 * The context of one model call, with `signal` an own enumerable getter (spreading the context reads it) that
 * creates the signal on first read.
 */
export function batchContext(
  inferenceArgs: InferenceArgs | undefined,
  modelId: string,
  scheduler: SchedulerLike,
  abort: BatchAbort,
): InferenceContext {
  const context: InferenceContext = {
    inferenceArgs,
    modelId,
    get signal() {
      return abort.signal;
    },
    scheduler,
  };
  engineAborts.set(context, abort);
  return context;
}

/**
 * True when `context` is known not to be aborted without reading its signal (a {@link batchContext} never aborted);
 * false when it is aborted or not known — then read `context.signal`.
 */
export function knownUnaborted(context: InferenceContext): boolean {
  return engineAborts.get(context)?.aborted === false;
}
