import type { BatchKey } from './BatchElementsConfig.js';

/** The state of one group of a `BatchQueue`. */
export interface GroupState {
  /** The group's key (`undefined` without a `batchKeyFn`). */
  readonly key: BatchKey;
  /** Items queued in the group. */
  readonly count: number;
  /** Their total weight (`count` without an `elementSizeFn`). */
  readonly weight: number;
}

// Below this many taken items at the head, the arrays are left as they are; above it, they are compacted once the
// taken part is at least half the array, so each item is moved O(1) times on average.
export const COMPACT_MIN = 1024;

/**
 * One group of a `BatchQueue`: a FIFO array with a head index (no `Array#shift`), plus parallel arrays where the queue
 * needs them — weights (with an `elementSizeFn`), push numbers (with a `batchKeyFn`, for the oldest-group order), and
 * the caller's tag and time of each item (a tagged queue). Parallel arrays of numbers, not an object per item.
 */
export class BatchGroup<T> implements GroupState {
  count = 0;
  weight = 0;
  items: T[] = [];
  head = 0;
  /** Weight of each item, only with an `elementSizeFn`. */
  readonly weights: number[] | undefined;
  /** Global push number of each item, only with a `batchKeyFn`. */
  readonly seqs: number[] | undefined;
  /** The caller's tag of each item (the engine: its sequence number), only in a tagged queue. */
  readonly tags: number[] | undefined;
  /** The caller's time of each item (the engine: its arrival), only in a tagged queue. */
  readonly times: number[] | undefined;

  constructor(
    readonly key: BatchKey,
    weighted: boolean,
    keyed: boolean,
    tagged: boolean,
  ) {
    if (weighted) this.weights = [];
    if (keyed) this.seqs = [];
    if (tagged) {
      this.tags = [];
      this.times = [];
    }
  }

  /** Drops `n` items from the head (they have been copied out already). */
  advance(n: number, removedWeight: number): void {
    this.head += n;
    this.count -= n;
    if (this.count === 0) {
      this.items.length = 0;
      if (this.weights) this.weights.length = 0;
      if (this.seqs) this.seqs.length = 0;
      if (this.tags) this.tags.length = 0;
      if (this.times) this.times.length = 0;
      this.head = 0;
      this.weight = 0;
      return;
    }
    this.weight = this.weights ? this.weight - removedWeight : this.count;
    if (this.head >= COMPACT_MIN && this.head * 2 >= this.items.length) {
      const head = this.head;
      this.items.splice(0, head);
      this.weights?.splice(0, head);
      this.seqs?.splice(0, head);
      this.tags?.splice(0, head);
      this.times?.splice(0, head);
      this.head = 0;
    }
  }
}
