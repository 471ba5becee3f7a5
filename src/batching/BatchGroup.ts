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

// A group out of slots moves its live items to the front instead of growing once at least this many, and at least
// half, of its slots are taken: each item is moved O(1) times on average, and a queue that drains moves none.
export const COMPACT_MIN = 1024;

// A drained group keeps arrays up to this many slots for the next burst (refilling them costs ~6 ns per item; growing
// fresh arrays of tens of thousands of items again costs 40–120 ns, issue 11); larger ones are released.
export const KEEP_SLOTS = 1 << 17;

/**
 * One group of a `BatchQueue`: a FIFO array with a head index (no `Array#shift`), plus parallel arrays where the queue
 * needs them — weights (with an `elementSizeFn`), push numbers (with a `batchKeyFn`, for the oldest-group order), and
 * the caller's tag and time of each item (a tagged queue). Parallel arrays of numbers, not an object per item.
 *
 * Items live in slots `[head, head + count)`. The arrays keep their length when items leave (taken slots are cleared,
 * so no item is retained), and are written by index: a drained group refills the same arrays on the next burst.
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
    public key: BatchKey,
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

  /** Appends an item with its weight, push number, tag and time (each kept only where the group keeps them). */
  append(item: T, weight: number, seq: number, tag: number, time: number): void {
    let at = this.head + this.count;
    // Out of slots with at least half of them taken: move the live ones to the front rather than grow.
    if (at === this.items.length && this.head >= COMPACT_MIN && this.head >= this.count) {
      this.compact();
      at = this.count;
    }
    if (at < this.items.length) {
      this.items[at] = item;
      if (this.weights !== undefined) this.weights[at] = weight;
      if (this.seqs !== undefined) this.seqs[at] = seq;
      if (this.tags !== undefined) {
        this.tags[at] = tag;
        this.times![at] = time;
      }
    } else {
      this.items.push(item);
      this.weights?.push(weight);
      this.seqs?.push(seq);
      if (this.tags !== undefined) {
        this.tags.push(tag);
        this.times!.push(time);
      }
    }
    this.count++;
    this.weight = this.weights !== undefined ? this.weight + weight : this.count;
  }

  /** Drops `n` items from the head (they have been copied out already). */
  advance(n: number, removedWeight: number): void {
    const head = this.head;
    this.items.fill(undefined as T, head, head + n);
    this.head = head + n;
    this.count -= n;
    if (this.count === 0) {
      this.head = 0;
      this.weight = 0;
      if (this.items.length > KEEP_SLOTS) this.release();
      return;
    }
    this.weight = this.weights ? this.weight - removedWeight : this.count;
  }

  /** Drops the taken slots at the front (a memmove): the live items start at slot 0. */
  private compact(): void {
    const head = this.head;
    this.items.splice(0, head);
    this.weights?.splice(0, head);
    this.seqs?.splice(0, head);
    this.tags?.splice(0, head);
    this.times?.splice(0, head);
    this.head = 0;
  }

  private release(): void {
    this.items.length = 0;
    if (this.weights) this.weights.length = 0;
    if (this.seqs) this.seqs.length = 0;
    if (this.tags) this.tags.length = 0;
    if (this.times) this.times.length = 0;
  }
}
