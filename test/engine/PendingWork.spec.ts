import { NEVER, of, Subject, Subscription, VirtualTimeScheduler } from 'rxjs';
import { Pending } from '../../src/engine/applyFunctions';
import { Failed } from '../../src/engine/Failed';
import { PendingWork } from '../../src/engine/PendingWork';

describe('PendingWork', () => {
  const setup = (timeoutMs?: number) => {
    const scheduler = new VirtualTimeScheduler();
    const owner = new Subscription();
    const log: unknown[] = [];
    let closed = false;
    const work = new PendingWork({
      owner,
      scheduler,
      timeoutMs,
      closed: () => closed,
      settled: () => log.push('settled'),
      fail: (seq, entry) => log.push([seq, (entry as Failed).record.error.message]),
    });
    return { scheduler, owner, log, work, close: () => (closed = true) };
  };

  it('continues with the outcome, counts work in flight, and lets go of it once settled', () => {
    const { work, log } = setup();
    const outcome = new Subject<unknown>();
    work.await(1, 'preprocess', new Pending(outcome, 0, 'x'), (v) => log.push(v));
    expect(work.count).toBe(1);
    outcome.next('X');
    expect(log).toEqual(['X', 'settled']);
    expect(work.count).toBe(0);
    work.await(2, 'postprocess', new Pending(of('Y'), 0, 'y'), (v) => log.push(v));
    expect(log).toEqual(['X', 'settled', 'Y', 'settled']);
  });

  it('fails the element past timeoutMs, naming the function and the element', () => {
    const { work, log, scheduler } = setup(10);
    work.await(4, 'postprocess', new Pending(NEVER, 2, 'z'), (v) => log.push(v));
    scheduler.flush();
    expect(log).toEqual([[4, 'Postprocess function 2 took longer than timeoutMs (10 ms) on element 4.'], 'settled']);
    expect(work.count).toBe(0);
  });

  it('drops an outcome that arrives after the engine closed', () => {
    const { work, log, close } = setup();
    const outcome = new Subject<unknown>();
    work.await(1, 'preprocess', new Pending(outcome, 0, 'x'), (v) => log.push(v));
    close();
    outcome.next('late');
    expect(log).toEqual([]);
    expect(work.count).toBe(0);
  });
});
