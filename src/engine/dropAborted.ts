import type { BatchKey } from '../batching/BatchElementsConfig.js';
import type { BatchQueue } from '../batching/BatchQueue.js';
import { toError } from '../core/errors.js';
import type { QueuedBatch } from './BatchRunner.js';
import { Failed } from './Failed.js';

/** An element taken out of a batch before the model saw it, with its failure. */
export interface Dropped {
  readonly seq: number;
  readonly entry: Failed;
}

/**
 * The elements of `batch` whose `elementSignal` has not aborted (the same batch when none has); each aborted one goes
 * to `dropped` with a failure carrying the signal's reason (or what `signalOf` threw). `inputOf(i)` is element `i`'s
 * input as the source gave it, which `signalOf` receives with the element's position in the stream.
 */
export function dropAborted(
  batch: QueuedBatch,
  signalOf: (element: unknown, index: number) => AbortSignal | undefined,
  inputOf: (i: number) => unknown,
  dropped: Dropped[],
): QueuedBatch {
  const { items, tags, times } = batch;
  let kept: { items: unknown[]; tags: number[]; times: number[] } | undefined;
  for (let i = 0; i < items.length; i++) {
    let reason: unknown;
    let aborted = false;
    try {
      const signal = signalOf(inputOf(i), tags[i]);
      if (signal?.aborted === true) {
        aborted = true;
        reason = signal.reason;
      }
    } catch (thrown) {
      aborted = true;
      reason = thrown;
    }
    if (aborted) {
      kept ??= { items: items.slice(0, i), tags: tags.slice(0, i), times: times.slice(0, i) };
      const record = { stage: 'inference' as const, index: 0, element: items[i], error: toError(reason) };
      dropped.push({ seq: tags[i], entry: new Failed(record) });
    } else if (kept !== undefined) {
      kept.items.push(items[i]);
      kept.tags.push(tags[i]);
      kept.times.push(times[i]);
    }
  }
  return kept ?? batch;
}

/**
 * Takes the next batch of group `key` (`sizes[0]` elements, then `sizes[1]` for each further try) without its aborted
 * elements, which go to `dropped`; when a whole batch was aborted, takes the next one. `inputs`: each element's input
 * by sequence number where it differs from the queued value (preprocessing); its entries for taken elements go.
 *
 * @returns `undefined` when the group ran out.
 */
export function takeUnaborted(
  queue: BatchQueue<unknown>,
  key: BatchKey,
  sizes: readonly [number, number],
  signalOf: (element: unknown, index: number) => AbortSignal | undefined,
  inputs: Map<number, unknown> | undefined,
  dropped: Dropped[],
): QueuedBatch | undefined {
  let taken = queue.takeTagged(key, sizes[0]);
  while (taken !== undefined) {
    const { items, tags } = taken;
    const inputOf = inputs === undefined ? (i: number) => items[i] : (i: number) => inputs.get(tags[i]);
    const kept = dropAborted(taken, signalOf, inputOf, dropped);
    if (inputs !== undefined) for (const seq of tags) inputs.delete(seq);
    if (kept.items.length > 0) return kept;
    taken = queue.takeTagged(key, sizes[1]);
  }
  return undefined;
}
