import { asyncScheduler, type SchedulerLike, Subject, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { FakeModelHandler, runInference } from '../../src/index';

/** A scheduler (the TestScheduler by default), counting the actions it handed out that are still open. */
function countingScheduler(base?: SchedulerLike): {
  scheduler: SchedulerLike;
  test: TestScheduler;
  open: () => number;
} {
  const test = new TestScheduler((a, b) => expect(a).toEqual(b));
  test.maxFrames = Number.POSITIVE_INFINITY;
  const inner = base ?? test;
  const actions = new Set<Subscription>();
  const scheduler: SchedulerLike = {
    now: () => inner.now(),
    schedule: (work: any, delay?: number, state?: any) => {
      const action = inner.schedule(work, delay, state);
      actions.add(action);
      return action;
    },
  };
  const open = (): number => {
    for (const action of actions) if (action.closed) actions.delete(action);
    return actions.size;
  };
  return { scheduler, test, open };
}

describe('runInference on a long-lived stream (#13 item 3)', () => {
  const cases: readonly [string, object][] = [
    ['flushed at the end of each burst', { minBatchSize: 4 }],
    ['flushed by the time bound', { minBatchSize: 4, maxBatchDurationMs: 3 }],
  ];
  for (const [what, batch] of cases) {
    it(`keeps no scheduled action once it has run: ${what}`, () => {
      const { scheduler, test, open } = countingScheduler();
      const handler = new FakeModelHandler({ run: (x: number) => x * 2, latencyMs: 1 });
      const source = new Subject<number>();
      const results: number[] = [];
      const peaks: number[] = [];
      const subscription = source
        .pipe(runInference(handler, { scheduler, metrics: false, batch }))
        .subscribe((r) => results.push(r));
      const n = 2000;
      for (let i = 0; i < n; i++) {
        test.schedule(() => source.next(i), i * 10);
        test.schedule(() => peaks.push(open()), i * 10 + 9);
      }
      test.flush();
      expect(results).toEqual(Array.from({ length: n }, (_, i) => i * 2));
      // Every element was flushed on its own (one scheduled action each), yet none stays behind.
      expect(handler.batches.length).toBe(n);
      expect(Math.max(...peaks)).toBeLessThanOrEqual(1);
      subscription.unsubscribe();
      expect(open()).toBe(0);
    });
  }

  it('keeps no timer of a time-bounded asynchronous preprocess function once it has settled', async () => {
    const { scheduler, open } = countingScheduler(asyncScheduler);
    const handler = new FakeModelHandler({ run: (x: number) => x }).withPreprocessFn(async (x: number) => x);
    const source = new Subject<number>();
    const results: number[] = [];
    let peak = 0;
    const done = new Promise<void>((resolve) =>
      source
        .pipe(runInference(handler, { scheduler, metrics: false, timeoutMs: 1000 }))
        .subscribe({ next: (r) => results.push(r), complete: resolve }),
    );
    for (let i = 0; i < 500; i++) {
      source.next(i);
      await new Promise((resolve) => setImmediate(resolve));
      peak = Math.max(peak, open());
    }
    source.complete();
    await done;
    // A timer per element in flight at most, none left behind.
    expect(peak).toBeLessThanOrEqual(3);
    expect(results).toHaveLength(500);
    expect(open()).toBe(0);
  });
});
