/** A place in a {@link RequestSemaphore}: waiting for a slot, holding one, or done. */
export interface SemaphoreTicket {
  /** True while the ticket waits for a slot. */
  readonly waiting: boolean;
  /** Gives the slot back, or leaves the queue if it was still waiting. Idempotent. */
  release(): void;
}

interface Entry {
  readonly ticket: SemaphoreTicket;
  state: 'waiting' | 'held' | 'done';
}

/**
 * Caps the requests in flight across every batch of one `RemoteModelHandler` (`maxConcurrentRequests`). Waiters are
 * served first come, first served; a waiter that is released before its turn (its batch was aborted or unsubscribed)
 * leaves the queue. No timers, no Promises: callbacks run synchronously, so it works in virtual time.
 */
export class RequestSemaphore {
  private active = 0;
  private peak = 0;
  private readonly waiting: { entry: Entry; grant: (ticket: SemaphoreTicket) => void }[] = [];

  constructor(private readonly limit: number) {}

  /** Requests in flight now. */
  get inFlight(): number {
    return this.active;
  }

  /** Most requests ever in flight at once. */
  get maxInFlight(): number {
    return this.peak;
  }

  /** Batches waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Calls `grant(ticket)` when a slot is free (synchronously, if one is free now). Release the ticket when the
   * request ends, or to leave the queue.
   */
  acquire(grant: (ticket: SemaphoreTicket) => void): SemaphoreTicket {
    const entry: Entry = {
      state: 'waiting',
      ticket: {
        get waiting() {
          return entry.state === 'waiting';
        },
        release: () => this.release(entry),
      },
    };
    this.waiting.push({ entry, grant });
    this.drain();
    return entry.ticket;
  }

  private release(entry: Entry): void {
    if (entry.state === 'held') {
      entry.state = 'done';
      this.active--;
      this.drain();
    } else if (entry.state === 'waiting') {
      entry.state = 'done';
      const i = this.waiting.findIndex((w) => w.entry === entry);
      if (i >= 0) this.waiting.splice(i, 1);
    }
  }

  private drain(): void {
    while (this.active < this.limit && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      next.entry.state = 'held';
      this.active++;
      if (this.active > this.peak) this.peak = this.active;
      next.grant(next.entry.ticket);
    }
  }
}
