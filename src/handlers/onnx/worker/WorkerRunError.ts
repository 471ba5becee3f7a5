/** `session.run` failed in a worker (or the worker died): the worker's message, wrapped by the handler. */
export class WorkerRunError extends Error {
  override readonly name = 'WorkerRunError';
}
