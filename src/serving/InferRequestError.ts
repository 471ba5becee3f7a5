/** A request the Open Inference Protocol server cannot serve: the HTTP status and a message naming the field. */
export class InferRequestError extends Error {
  override readonly name = 'InferRequestError' as const;
  constructor(
    message: string,
    /** The HTTP status to answer with (400 bad request, 404 unknown model or route, 413 body too large...). */
    readonly status: number,
  ) {
    super(message);
  }
}
