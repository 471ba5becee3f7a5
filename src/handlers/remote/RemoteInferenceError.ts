import { InferenceError } from '../../core/errors.js';

/** Why a remote batch gave up. */
export type RemoteFailureReason = 'not-retryable' | 'attempts-exhausted' | 'deadline' | 'aborted' | 'bad-response';

/**
 * A remote batch failed for good: the last error was not retryable, the attempts or the deadline ran out, the batch
 * was aborted, or the response did not hold one output per input. It is an `InferenceError` (so the engine and the
 * dead-letter stream treat it like any failed batch), with the HTTP `status` of the last answer, when there was one,
 * and the last error as `cause`.
 */
export class RemoteInferenceError extends InferenceError {
  constructor(
    message: string,
    batchSize: number,
    /** Why the handler gave up. */
    readonly reason: RemoteFailureReason,
    /** How many requests were sent for this batch (throttled attempts are not sent and not counted). */
    readonly attempts: number,
    /** HTTP status of the last answer, when the last error carried one. */
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, batchSize, options);
  }
}
