import { InvalidExampleError } from '../core/errors.js';

/** How handlers name an element by its batch position: "Element 2 of the batch", "Example 2", "element 2". */
const BATCH_POSITION = /\b([Ee])(lement|xample) (\d+)(?: of (?:the|its) batch)?/;

/**
 * A handler's `InvalidExampleError` names its element by its position in the batch it was given (`position`, and
 * "Element 0 of the batch" in the message) — after bisection that is always 0. The engine knows where that batch sits
 * in the stream (`seqs[lo + position]`): this gives the same error naming the element's position in the stream
 * ("Element #57 of the stream, input `x`: …"), with `streamPosition` set. Any other error is returned as it is.
 */
export function namedInStream(error: unknown, seqs: readonly number[], lo: number, hi: number): unknown {
  let position: number | undefined;
  try {
    if (!(error instanceof InvalidExampleError) || error.streamPosition !== undefined) return error;
    position = error.position;
  } catch {
    return error; // a hostile thrown value: kept as it is
  }
  if (position === undefined || !Number.isInteger(position) || position < 0 || position >= hi - lo) return error;
  const seq = seqs[lo + position];
  const match = BATCH_POSITION.exec(error.message);
  const message =
    match !== null && Number(match[3]) === position
      ? error.message.slice(0, match.index) +
        `${match[1]}lement #${seq} of the stream` +
        error.message.slice(match.index + match[0].length)
      : `Element #${seq} of the stream: ${error.message}`;
  const named = new InvalidExampleError(message, position, error.field, seq);
  if (error.stack !== undefined) named.stack = error.stack.replace(error.message, message);
  return named;
}
