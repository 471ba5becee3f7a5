import { describeValue } from '../core/errors.js';
import type { BatchKey } from './BatchElementsConfig.js';
import { BatchGroup as Group, type GroupState } from './BatchGroup.js';
import { PushOrderLog } from './PushOrderLog.js';

export type { GroupState } from './BatchGroup.js';

/** How a `BatchQueue` groups and weighs its items. */
export interface BatchQueueConfig<T> {
  /** Items with different keys go to different groups and never share a batch. @default one group */
  readonly batchKeyFn?: (item: T) => BatchKey;
  /** Weight of one item: a non-negative finite number. @default every item weighs 1 */
  readonly elementSizeFn?: (item: T) => number;
  /** Largest total weight `take` returns (a single heavier item still comes out alone). @default Infinity */
  readonly maxBatchWeight?: number;
  /** Each item carries a numeric tag and time given to `push`, returned by `takeTagged`. @default false */
  readonly tagged?: boolean;
}

/** A batch taken from a tagged queue: the items in push order, and each one's tag and time (parallel arrays). */
export interface TaggedBatch<T> {
  readonly items: T[];
  readonly tags: number[];
  readonly times: number[];
}

/**
 * The batching buffer behind `batchElements` and `runInference`: a FIFO queue of items split into groups by key, from
 * which batches are taken bounded by a size and a total weight.
 *
 * `push` and `take` are O(1) amortised per item (a head index with periodic compaction, never `Array#shift`). Without
 * a `batchKeyFn` there is a single group and no per-item bookkeeping beyond the item itself (and its weight with an
 * `elementSizeFn`), for the hot path. With a `batchKeyFn`, a push-order log of keys gives the group whose head is the
 * oldest in O(1) amortised. `group(key)` and `peek(key)` look at a group without changing it; `clear()` empties the
 * queue (on error or unsubscribe).
 *
 * @example
 * ```ts
 * const queue = new BatchQueue<number[]>({ batchKeyFn: (x) => x.length });
 * queue.push([1, 2]);
 * queue.push([3]);
 * queue.push([4, 5]);
 * queue.take(10); // [[1, 2], [4, 5]]: the group of the oldest item, never mixed with other keys
 * queue.take(10); // [[3]]
 * ```
 */
export class BatchQueue<T> {
  private readonly keyFn: ((item: T) => BatchKey) | undefined;
  private readonly sizeFn: ((item: T) => number) | undefined;
  private readonly maxWeight: number;
  private readonly tagged: boolean;
  /** The only group without a `batchKeyFn`. */
  private readonly single: Group<T> | undefined;
  /** Non-empty groups by key, with a `batchKeyFn`. */
  private readonly groups = new Map<BatchKey, Group<T>>();
  /** Push order by key, with a `batchKeyFn` (for the oldest group). */
  private readonly order = new PushOrderLog((key, end) => {
    const group = this.groups.get(key);
    return group !== undefined && group.seqs![group.head] < end;
  });
  /**
   * The last group that drained, kept (with its arrays, see `KEEP_SLOTS`) for the next new key: a keyed queue whose
   * one group drains between bursts would otherwise grow fresh arrays, element by element, every burst (issue 11).
   */
  private spare: Group<T> | undefined;
  /** The group of the last push (consecutive items of one key skip the map lookup). */
  private lastGroup: Group<T> | undefined;
  private nextSeq = 0;
  private total = 0;

  constructor(config?: BatchQueueConfig<T>) {
    this.keyFn = config?.batchKeyFn;
    this.sizeFn = config?.elementSizeFn;
    this.maxWeight = config?.maxBatchWeight ?? Infinity;
    this.tagged = config?.tagged === true;
    if (this.keyFn === undefined) this.single = new Group<T>(undefined, this.sizeFn !== undefined, false, this.tagged);
  }

  /** Total items queued, all groups. */
  get length(): number {
    return this.total;
  }

  /**
   * Enqueues an item, computing its key and weight once. In a tagged queue, `tag` and `time` are kept with it.
   *
   * @returns Its group's state after the push: a live view, read it before the next call on the queue.
   * @throws TypeError naming `elementSizeFn` when the weight is not a non-negative finite number; whatever
   *   `batchKeyFn` or `elementSizeFn` throw. Nothing is queued then.
   */
  push(item: T, tag = 0, time = 0): GroupState {
    let weight = 1;
    if (this.sizeFn !== undefined) {
      weight = this.sizeFn(item);
      if (typeof weight !== 'number' || !(weight >= 0) || weight === Infinity) {
        throw new TypeError(
          `Expected \`elementSizeFn\` to return a non-negative finite number, got ${describeValue(weight)} ` +
            `for element ${describeValue(item)}.`,
        );
      }
    }
    let group = this.single;
    let seq = 0;
    if (group === undefined) {
      const key = this.keyFn!(item);
      group = this.lastGroup;
      if (group === undefined || group.key !== key) {
        group = this.groups.get(key);
        if (group === undefined) {
          group = this.spare ?? new Group<T>(key, this.sizeFn !== undefined, true, this.tagged);
          this.spare = undefined;
          group.key = key;
          this.groups.set(key, group);
        }
        this.lastGroup = group;
      }
      seq = this.nextSeq++;
      this.order.record(key, seq);
    }
    group.append(item, weight, seq, tag, time);
    this.total++;
    return group;
  }

  /**
   * Removes the next batch from the group whose head item was pushed earliest. The batch holds up to `maxSize` items
   * whose total weight is at most `maxBatchWeight`, but always at least one item.
   *
   * @returns The batch, in push order; `[]` when the queue is empty.
   */
  take(maxSize: number): T[] {
    return this.takeFromGroup(this.single ?? this.groups.get(this.oldestKey()), maxSize);
  }

  /**
   * Removes the next batch from group `key` (`undefined` names the group whose key is `undefined`, the only group of
   * an unkeyed queue), with the same bounds as {@link take}.
   *
   * @returns The batch, in push order; `[]` when that group is empty.
   */
  takeFrom(key: BatchKey, maxSize: number): T[] {
    if (this.single !== undefined) return this.takeFromGroup(key === undefined ? this.single : undefined, maxSize);
    return this.takeFromGroup(this.groups.get(key), maxSize);
  }

  /**
   * Like {@link takeFrom}, for a tagged queue: the items with their tags and times.
   *
   * @returns `undefined` when that group is empty.
   */
  takeTagged(key: BatchKey, maxSize: number): TaggedBatch<T> | undefined {
    const group = this.single !== undefined ? (key === undefined ? this.single : undefined) : this.groups.get(key);
    if (group === undefined || group.count === 0) return undefined;
    const head = group.head;
    const n = this.sizeOfNext(group, maxSize);
    const batch = {
      items: group.items.slice(head, head + n),
      tags: group.tags!.slice(head, head + n),
      times: group.times!.slice(head, head + n),
    };
    this.remove(group, n);
    return batch;
  }

  private takeFromGroup(group: Group<T> | undefined, maxSize: number): T[] {
    if (group === undefined || group.count === 0) return [];
    const n = this.sizeOfNext(group, maxSize);
    const batch = group.items.slice(group.head, group.head + n);
    this.remove(group, n);
    return batch;
  }

  /** How many items the next batch of a non-empty group holds: at most `maxSize` and `maxBatchWeight`, at least 1. */
  private sizeOfNext(group: Group<T>, maxSize: number): number {
    const n = Math.min(maxSize >= 1 ? Math.floor(maxSize) : 1, group.count);
    if (group.weights !== undefined) {
      const weights = group.weights;
      let i = group.head;
      let weight = weights[i];
      const end = group.head + n;
      for (i++; i < end && weight + weights[i] <= this.maxWeight; i++) weight += weights[i];
      return i - group.head;
    }
    return this.maxWeight < n ? Math.max(1, Math.floor(this.maxWeight)) : n;
  }

  /** Drops the `n` head items of `group` (copied out already). */
  private remove(group: Group<T>, n: number): void {
    let removedWeight = 0;
    if (group.weights !== undefined)
      for (let i = group.head; i < group.head + n; i++) removedWeight += group.weights[i];
    group.advance(n, removedWeight);
    this.total -= n;
    if (this.single === undefined) {
      if (group.count === 0) this.deleteGroup(group);
      if (this.total === 0) this.order.reset();
      else this.order.compact(this.total);
    }
  }

  /** Current state of one group (a live view), or `undefined` when it has no items. */
  group(key: BatchKey): GroupState | undefined {
    if (this.single !== undefined) return key === undefined && this.single.count > 0 ? this.single : undefined;
    return this.groups.get(key);
  }

  /** The head (oldest) item of group `key`, left in place; `undefined` when that group is empty. */
  peek(key: BatchKey): T | undefined {
    const group = this.group(key) as Group<T> | undefined;
    return group === undefined ? undefined : group.items[group.head];
  }

  /** The time given with the head item of group `key` (a tagged queue); `undefined` when that group is empty. */
  headTime(key: BatchKey): number | undefined {
    const group = this.group(key) as Group<T> | undefined;
    return group === undefined ? undefined : group.times![group.head];
  }

  /** Key of the group whose head item is the oldest, or `undefined` when the queue is empty. */
  oldestKey(): BatchKey | undefined {
    if (this.single !== undefined || this.total === 0) return undefined;
    return this.order.oldest(this.total);
  }

  /** Removes and returns every item, in push order. */
  clear(): T[] {
    let out: T[];
    if (this.single !== undefined) {
      const group = this.single;
      out = group.items.slice(group.head, group.head + group.count);
      group.advance(group.count, group.weight);
    } else {
      out = [];
      this.order.forEachRun((key, end) => {
        const group = this.groups.get(key);
        if (group === undefined) return;
        while (group.count > 0 && group.seqs![group.head] < end) {
          out.push(group.items[group.head]);
          group.advance(1, group.weights?.[group.head] ?? 0);
        }
      });
      for (const group of this.groups.values()) group.advance(group.count, group.weight);
      this.groups.clear();
      this.lastGroup = undefined;
      this.order.reset();
    }
    this.total = 0;
    return out;
  }

  private deleteGroup(group: Group<T>): void {
    this.groups.delete(group.key);
    if (this.lastGroup === group) this.lastGroup = undefined;
    this.spare = group;
  }
}
