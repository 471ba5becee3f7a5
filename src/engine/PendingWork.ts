import { type SchedulerLike, Subscription } from 'rxjs';
import { InferenceTimeoutError } from '../core/errors.js';
import type { Pending } from './applyFunctions.js';
import { failure } from './Failed.js';
import { scheduleOwned } from './scheduleOwned.js';
import { hintPromiseInVirtualTime } from './virtualTimeHint.js';

/** What `PendingWork` needs from its engine. */
export interface PendingWorkOptions {
  /** Owns every subscription and timer (the engine's). */
  readonly owner: Subscription;
  readonly scheduler: SchedulerLike;
  readonly timeoutMs: number | undefined;
  /** Whether the engine has closed: an outcome after that is dropped. */
  readonly closed: () => boolean;
  /** Called after each outcome has been handed on (the engine checks whether it can complete). */
  readonly settled: () => void;
  /** Element `seq` failed (a time bound passed). */
  readonly fail: (seq: number, entry: unknown) => void;
}

/**
 * Asynchronous pre- and postprocessing still running (a function returned a Promise or an Observable). Each is owned
 * while it runs and dropped once settled (a long-lived stream keeps no subscription per element); with `timeoutMs`
 * it is bounded like a batch: past it the element fails and the work is unsubscribed, so a Promise that never
 * settles cannot stall the stream.
 */
export class PendingWork {
  /** Work still running. */
  count = 0;

  constructor(private readonly options: PendingWorkOptions) {}

  /** Continues with `then` once `pending` settles for element `seq`, unless the engine has closed by then. */
  await(seq: number, stage: 'preprocess' | 'postprocess', pending: Pending, then: (value: unknown) => void): void {
    const { timeoutMs, scheduler, owner } = this.options;
    this.count++;
    let done = false;
    let timer: Subscription | undefined;
    const subscription = new Subscription();
    const finish = (outcome: () => void): void => {
      if (done) return;
      done = true;
      this.count--;
      timer?.unsubscribe();
      owner.remove(subscription);
      subscription.unsubscribe();
      if (this.options.closed()) return;
      outcome();
      this.options.settled();
    };
    if (pending.viaPromise) hintPromiseInVirtualTime(stage, scheduler);
    owner.add(subscription);
    subscription.add(pending.outcome.subscribe((value) => finish(() => then(value))));
    if (timeoutMs !== undefined && !done) {
      timer = scheduleOwned(
        owner,
        scheduler,
        () => {
          const which = stage === 'preprocess' ? 'Preprocess' : 'Postprocess';
          const error = new InferenceTimeoutError(
            `${which} function ${pending.index} took longer than timeoutMs (${timeoutMs} ms) on element ${seq}.`,
            timeoutMs,
          );
          finish(() => this.options.fail(seq, failure(stage, pending.index, pending.element, error)));
        },
        timeoutMs,
      );
    }
  }
}
