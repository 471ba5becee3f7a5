import type { SchedulerLike, Subscription } from 'rxjs';
import { scheduleOwned } from './scheduleOwned.js';

/**
 * The engine's two wake-ups for partial batches, each pending at most once: at the end of the current synchronous
 * burst (no time bound), and when the oldest element's time bound expires. Both are owned by the engine's
 * subscription, so they are cancelled on unsubscribe, error or completion.
 */
export class FlushTimers {
  private burstEnd: Subscription | undefined;
  private timeBound: Subscription | undefined;

  constructor(
    private readonly owner: Subscription,
    private readonly scheduler: SchedulerLike,
    private readonly burstScheduler: SchedulerLike,
  ) {}

  /** Runs `work` at the end of this synchronous burst (unless already due then). */
  atBurstEnd(work: () => void): void {
    if (this.burstEnd !== undefined && !this.burstEnd.closed) return;
    this.burstEnd = scheduleOwned(this.owner, this.burstScheduler, () => {
      this.burstEnd = undefined;
      work();
    });
  }

  /** Runs `work` in `delayMs` (unless a time-bound wake-up is pending already: it wakes earlier). */
  after(delayMs: number, work: () => void): void {
    if (this.timeBound !== undefined && !this.timeBound.closed) return;
    this.timeBound = scheduleOwned(
      this.owner,
      this.scheduler,
      () => {
        this.timeBound = undefined;
        work();
      },
      delayMs,
    );
  }
}
