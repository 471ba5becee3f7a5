/** `predict` was called after `close()`, or the predictor's pipeline ended (its `cause` says why). */
export class PredictorClosedError extends Error {
  override readonly name = 'PredictorClosedError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
