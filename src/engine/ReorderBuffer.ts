/**
 * Releases per-sequence entries in sequence order. Entries that arrive in order pass straight through without being
 * stored, so the common case (one batch in flight, synchronous post-processing) costs no map operations.
 */
export class ReorderBuffer<T> {
  private next = 0;
  private readonly parked = new Map<number, T>();

  constructor(private readonly release: (entry: T, seq: number) => void) {}

  /** Number of entries waiting for an earlier one. */
  get size(): number {
    return this.parked.size;
  }

  /** The sequence number that will be released next. */
  get expected(): number {
    return this.next;
  }

  /** Offers the entry for `seq`; releases it, and whatever it unblocks, as soon as every earlier one has gone. */
  offer(seq: number, entry: T): void {
    if (seq !== this.next) {
      this.parked.set(seq, entry);
      return;
    }
    this.next++;
    this.release(entry, seq);
    this.releaseParked();
  }

  /**
   * When `seq` is the one expected next, counts it as released (the caller delivers it itself, then calls
   * `releaseParked`) and returns true; else false and nothing changes. The in-order fast path: no entry, no call.
   */
  take(seq: number): boolean {
    if (seq !== this.next) return false;
    this.next++;
    return true;
  }

  /** Releases the parked entries that are now next in sequence. */
  releaseParked(): void {
    if (this.parked.size === 0) return;
    let following = this.parked.get(this.next);
    while (following !== undefined || this.parked.has(this.next)) {
      this.parked.delete(this.next);
      const s = this.next++;
      this.release(following as T, s);
      following = this.parked.get(this.next);
    }
  }

  clear(): void {
    this.parked.clear();
  }
}
