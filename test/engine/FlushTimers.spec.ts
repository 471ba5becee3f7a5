import { Subscription, VirtualTimeScheduler } from 'rxjs';
import { FlushTimers } from '../../src/engine/FlushTimers';

describe('FlushTimers', () => {
  it('runs one burst-end wake-up however often it is asked for, and another after it ran', () => {
    const burst = new VirtualTimeScheduler();
    const timers = new FlushTimers(new Subscription(), new VirtualTimeScheduler(), burst);
    let runs = 0;
    timers.atBurstEnd(() => runs++);
    timers.atBurstEnd(() => runs++);
    burst.flush();
    expect(runs).toBe(1);
    timers.atBurstEnd(() => runs++);
    burst.flush();
    expect(runs).toBe(2);
  });

  it('keeps the earliest time-bound wake-up pending, and the owner cancels both', () => {
    const scheduler = new VirtualTimeScheduler();
    const owner = new Subscription();
    const timers = new FlushTimers(owner, scheduler, scheduler);
    const at: number[] = [];
    timers.after(5, () => at.push(scheduler.now()));
    timers.after(2, () => at.push(-1)); // ignored: a wake-up is pending
    scheduler.flush();
    expect(at).toEqual([5]);
    timers.after(3, () => at.push(scheduler.now()));
    timers.atBurstEnd(() => at.push(-2));
    owner.unsubscribe();
    scheduler.flush();
    expect(at).toEqual([5]);
  });
});
