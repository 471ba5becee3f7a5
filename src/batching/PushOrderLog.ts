import type { BatchKey } from './BatchElementsConfig.js';
import { COMPACT_MIN } from './BatchGroup.js';

/**
 * The push order of a keyed `BatchQueue`, run-length encoded: run `h` holds the items pushed with push numbers
 * `[starts[h], ends[h])`, all of group `keys[h]` (consecutive pushes of one key extend the last run, so a queue of one
 * shape costs one entry, not one per item). Runs whose items have all been taken are skipped lazily: `live(key, end)`
 * tells whether group `key` still holds an item pushed before `end` (its head's push number is below it).
 */
export class PushOrderLog {
  private keys: BatchKey[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  private head = 0;

  constructor(private readonly live: (key: BatchKey, end: number) => boolean) {}

  /** Runs held, skipped ones included (what `compact` bounds). */
  get runs(): number {
    return this.keys.length;
  }

  /** Item number `seq` was pushed to group `key`. */
  record(key: BatchKey, seq: number): void {
    const last = this.keys.length - 1;
    if (last >= this.head && this.keys[last] === key && this.ends[last] === seq) {
      this.ends[last] = seq + 1;
    } else {
      this.keys.push(key);
      this.starts.push(seq);
      this.ends.push(seq + 1);
    }
  }

  /** The key of the first run still live: the group whose head is the oldest item (the queue must not be empty). */
  oldest(liveItems: number): BatchKey {
    let h = this.head;
    while (h < this.keys.length && !this.live(this.keys[h], this.ends[h])) h++;
    this.head = h;
    const key = this.keys[h];
    this.compact(liveItems);
    return key;
  }

  /** Calls `visit(key, end)` for each run not yet skipped, oldest first. */
  forEachRun(visit: (key: BatchKey, end: number) => void): void {
    for (let h = this.head; h < this.keys.length; h++) visit(this.keys[h], this.ends[h]);
  }

  reset(): void {
    this.keys = [];
    this.starts = [];
    this.ends = [];
    this.head = 0;
  }

  /** Keeps the log at most about twice the `liveItems`: drop skipped runs at the head, or filter out consumed ones. */
  compact(liveItems: number): void {
    const size = this.keys.length - this.head;
    if (this.head >= COMPACT_MIN && this.head * 2 >= this.keys.length) {
      this.keys.splice(0, this.head);
      this.starts.splice(0, this.head);
      this.ends.splice(0, this.head);
      this.head = 0;
    } else if (size > 2 * liveItems + COMPACT_MIN) {
      // Items taken from groups other than the oldest leave consumed runs behind the live head: filter them out.
      const keys: BatchKey[] = [];
      const starts: number[] = [];
      const ends: number[] = [];
      for (let h = this.head; h < this.keys.length; h++) {
        if (this.live(this.keys[h], this.ends[h])) {
          keys.push(this.keys[h]);
          starts.push(this.starts[h]);
          ends.push(this.ends[h]);
        }
      }
      this.keys = keys;
      this.starts = starts;
      this.ends = ends;
      this.head = 0;
    }
  }
}
