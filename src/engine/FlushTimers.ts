import { asapScheduler, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { scheduleOwned } from './scheduleOwned.js';

/**
 * The engine's two wake-ups for partial batches, each pending at most once: at the end of the current synchronous
 * burst (no time bound), and when the oldest element's time bound expires. Both are owned by the engine's
 * subscription, so they are cancelled on unsubscribe, error or completion.
 *
 * On rxjs's `asapScheduler` (the default burst scheduler) the burst-end wake-up is one action for the engine's life,
 * rescheduled for each burst as rxjs's own recursive scheduling does (`this.schedule()`): same microtask, same order
 * among other asap actions, without a new action, closure and owner entry per burst (at low load every element is a
 * burst of its own; issue 11, P3). Other schedulers (virtual time, a user's) get a one-shot action per burst.
 */
export class FlushTimers {
  private burstEnd: Subscription | undefined;
  private timeBound: Subscription | undefined;
  /** The asap burst-end action, once it has run (it is `this` inside its work). */
  private asapAction: SchedulerAction<unknown> | undefined;
  private asapPending = false;
  private asapWork: (() => void) | undefined;

  constructor(
    private readonly owner: Subscription,
    private readonly scheduler: SchedulerLike,
    private readonly burstScheduler: SchedulerLike,
  ) {}

  /** Runs `work` at the end of this synchronous burst (unless already due then). */
  atBurstEnd(work: () => void): void {
    if (this.burstScheduler === asapScheduler) {
      this.atAsapBurstEnd(work);
      return;
    }
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

  private atAsapBurstEnd(work: () => void): void {
    if (this.asapPending || this.owner.closed) return;
    this.asapPending = true;
    this.asapWork = work;
    const action = this.asapAction;
    if (action !== undefined && !action.closed) {
      action.schedule();
      return;
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const timers = this;
    const scheduled = asapScheduler.schedule(function (this: SchedulerAction<unknown>) {
      timers.asapAction = this;
      timers.runAsapWork();
    });
    this.owner.add(scheduled);
  }

  private runAsapWork(): void {
    const work = this.asapWork!;
    this.asapPending = false;
    this.asapWork = undefined;
    work();
  }
}
