import { asapScheduler, Subscription, VirtualTimeScheduler } from 'rxjs';
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

describe('FlushTimers on asapScheduler (one action rescheduled per burst)', () => {
  const microtasks = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('runs once per burst, after the synchronous code, burst after burst, with one owner entry', async () => {
    const owner = new Subscription();
    const add = jest.spyOn(owner, 'add');
    const timers = new FlushTimers(owner, asapScheduler, asapScheduler);
    const log: string[] = [];
    for (let burst = 0; burst < 3; burst++) {
      timers.atBurstEnd(() => log.push(`flush ${burst}`));
      timers.atBurstEnd(() => log.push('ignored: already due'));
      log.push(`sync ${burst}`);
      await microtasks();
    }
    expect(log).toEqual(['sync 0', 'flush 0', 'sync 1', 'flush 1', 'sync 2', 'flush 2']);
    expect(add).toHaveBeenCalledTimes(1);
  });

  it('keeps its order among other asap actions, and a burst-end asked for during the flush runs in a later one', async () => {
    const timers = new FlushTimers(new Subscription(), asapScheduler, asapScheduler);
    const log: string[] = [];
    timers.atBurstEnd(() => log.push('warm-up'));
    await microtasks();
    asapScheduler.schedule(() => log.push('a'));
    timers.atBurstEnd(() => {
      log.push('flush');
      timers.atBurstEnd(() => log.push('next flush'));
      asapScheduler.schedule(() => log.push('c'));
    });
    asapScheduler.schedule(() => log.push('b'));
    await microtasks();
    expect(log).toEqual(['warm-up', 'a', 'flush', 'b', 'next flush', 'c']);
  });

  it('unsubscribing the owner cancels a pending burst-end; nothing runs after', async () => {
    const owner = new Subscription();
    const timers = new FlushTimers(owner, asapScheduler, asapScheduler);
    let runs = 0;
    timers.atBurstEnd(() => runs++);
    await microtasks();
    timers.atBurstEnd(() => runs++);
    owner.unsubscribe();
    timers.atBurstEnd(() => runs++);
    await microtasks();
    expect(runs).toBe(1);
  });
});
