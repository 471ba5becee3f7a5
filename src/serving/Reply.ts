import { InferenceTimeoutError, InvalidExampleError, messageOf } from '../core/errors.js';
import { InferRequestError } from './InferRequestError.js';
import { PredictorClosedError } from './PredictorClosedError.js';
import { QueueFullError } from './QueueFullError.js';

const JSON_TYPE = 'application/json';

/** An answer of the inference server: status and JSON body. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly contentType = JSON_TYPE,
  ) {}

  static json(status: number, value: unknown): Reply {
    return new Reply(status, JSON.stringify(value));
  }

  static error(status: number, message: string): Reply {
    return Reply.json(status, { error: message });
  }

  /**
   * The answer to a failed request: 400 for a bad request or example, 503 when the queue is full or the predictor
   * closed, 504 past the deadline, 500 when the model fails; `{ "error": message }`.
   */
  static failure(error: unknown): Reply {
    return Reply.error(statusOf(error), messageOf(error));
  }
}

function statusOf(error: unknown): number {
  if (error instanceof InferRequestError) return error.status;
  if (error instanceof QueueFullError || error instanceof PredictorClosedError) return 503;
  if (error instanceof InferenceTimeoutError) return 504;
  if (error instanceof InvalidExampleError) return 400;
  return 500;
}
