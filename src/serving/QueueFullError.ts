/** `predict` found `maxQueuedRequests` requests already waiting: load shedding (Triton's `max_queue_size`). */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError' as const;
  constructor(
    message: string,
    /** The bound that was reached. */
    readonly maxQueuedRequests: number,
  ) {
    super(message);
  }
}
