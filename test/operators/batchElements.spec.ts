import { from, map, Observable, range, Subject, take, tap, toArray, firstValueFrom } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { batchElements, BatchSizeEstimator } from '../../src/index';
import * as root from 'rxjs-inference';
import * as operators from 'rxjs-inference/operators';

describe('batchElements', () => {
  let testScheduler: TestScheduler;

  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('emits each lone element when the source goes quiet, and a burst together (JSDoc marble 1)', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-b-c-d-(ef)---g-|');
      const e1subs = '   ^-----------------!';
      const expected = ' -x-y-z-w-v------u-|';
      const values = { x: ['a'], y: ['b'], z: ['c'], w: ['d'], v: ['e', 'f'], u: ['g'] };

      expectObservable(e1.pipe(batchElements({ minBatchSize: 3, maxBatchSize: 3, scheduler: testScheduler }))).toBe(
        expected,
        values,
      );
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('emits a batch as soon as it reaches the target size, then the rest of the burst', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -(abcdefg)-|');
      const e1subs = '   ^----------!';
      const expected = ' -(xyz)-----|';

      expectObservable(e1.pipe(batchElements({ minBatchSize: 3, maxBatchSize: 3, scheduler: testScheduler }))).toBe(
        expected,
        { x: ['a', 'b', 'c'], y: ['d', 'e', 'f'], z: ['g'] },
      );
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('grows the target at most ×2 per batch from minBatchSize when downstream is free', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -(abcdefghijklmnop)-|');
      const expected = ' -(wxyzv)------------|';

      expectObservable(e1.pipe(batchElements({ scheduler: testScheduler }))).toBe(expected, {
        w: ['a'],
        x: ['b', 'c'],
        y: ['d', 'e', 'f', 'g'],
        z: ['h', 'i', 'j', 'k', 'l', 'm', 'n', 'o'],
        v: ['p'], // the rest, when the burst ends
      });
    });
  });

  it('emits a partial batch maxBatchDurationMs after its first element (JSDoc marble 2)', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -abcd----e-|');
      const e1subs = '   ^----------!';
      const expected = ' ---x---y---(z|)';

      expectObservable(
        e1.pipe(batchElements({ minBatchSize: 3, maxBatchSize: 3, maxBatchDurationMs: 3, scheduler: testScheduler })),
      ).toBe(expected, { x: ['a', 'b', 'c'], y: ['d'], z: ['e'] });
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('flushes partial work on completion, then completes', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-b-|');
      const e1subs = '   ^----!';
      const expected = ' -----(x|)';

      expectObservable(
        e1.pipe(batchElements({ minBatchSize: 5, maxBatchSize: 5, maxBatchDurationMs: 10, scheduler: testScheduler })),
      ).toBe(expected, { x: ['a', 'b'] });
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('completes without emitting when the source is empty', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('--|').pipe(batchElements({ scheduler: testScheduler }))).toBe('--|');
    });
  });

  it('forwards a source error, dropping queued elements but keeping what was emitted', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -(abcd)-e-#');
      const e1subs = '   ^---------!';
      const expected = ' -x--------#';

      expectObservable(
        e1.pipe(batchElements({ minBatchSize: 3, maxBatchSize: 3, maxBatchDurationMs: 20, scheduler: testScheduler })),
      ).toBe(expected, { x: ['a', 'b', 'c'] }); // d and e were queued: dropped
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('forwards a source error after a quiet flush', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      expectObservable(
        cold('-(ab)-#').pipe(batchElements({ minBatchSize: 3, maxBatchSize: 3, scheduler: testScheduler })),
      ).toBe('-x----#', { x: ['a', 'b'] });
    });
  });

  it('stops, dropping queued elements and cancelling its timers, when unsubscribed early', () => {
    let pendingActions = -1;
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-b-c-d-e-f-|');
      const e1subs = '   ^------!';
      const unsub = '    -------!';
      const expected = ' ----x---';

      expectObservable(
        e1.pipe(batchElements({ minBatchSize: 10, maxBatchSize: 10, maxBatchDurationMs: 3, scheduler: testScheduler })),
        unsub,
      ).toBe(expected, { x: ['a', 'b'] });
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      // c arrived at frame 5 and armed a timer for frame 8: unsubscribing at 7 must have cancelled it.
      testScheduler.schedule(() => (pendingActions = testScheduler.actions.length), 8);
    });
    expect(pendingActions).toBe(0);
  });

  it('cancels its quiet-flush action when unsubscribed in the middle of a burst', () => {
    const subject = new Subject<string>();
    const batches: string[][] = [];
    const subscription = subject
      .pipe(batchElements({ minBatchSize: 5, maxBatchSize: 5, scheduler: testScheduler }))
      .subscribe((batch) => batches.push(batch));
    subject.next('a');
    subject.next('b');
    expect(testScheduler.actions).toHaveLength(1); // one quiet-flush action per burst, not per element
    subscription.unsubscribe();
    expect(testScheduler.actions).toHaveLength(0);
    testScheduler.flush();
    expect(batches).toEqual([]);
    expect(subject.observed).toBe(false);
  });

  it('stops a synchronous infinite source when take() has enough', () => {
    const sideEffects: number[] = [];
    const synchronousInfinite = new Observable<number>((subscriber) => {
      for (let i = 0; !subscriber.closed; i++) {
        sideEffects.push(i);
        subscriber.next(i);
      }
    });
    const batches: number[][] = [];
    synchronousInfinite
      .pipe(batchElements({ minBatchSize: 2, maxBatchSize: 2 }), take(3))
      .subscribe((batch) => batches.push(batch));
    expect(batches).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(sideEffects).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('stops a synchronous infinite source under the TestScheduler too', () => {
    testScheduler.run(({ expectObservable }) => {
      const synchronousInfinite = new Observable<string>((subscriber) => {
        while (!subscriber.closed) subscriber.next('a');
      });
      expectObservable(
        synchronousInfinite.pipe(
          batchElements({ minBatchSize: 2, maxBatchSize: 2, scheduler: testScheduler }),
          take(2),
        ),
      ).toBe('(xx|)', { x: ['a', 'a'] });
    });
  });

  it('never mixes keys in a batch (batchKeyFn), flushing the oldest group first', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -(aAbBcC)-|');
      const expected = ' -(wxyz)---|';
      const batchKeyFn = (s: string) => s === s.toUpperCase();

      expectObservable(
        e1.pipe(batchElements({ minBatchSize: 2, maxBatchSize: 2, batchKeyFn, scheduler: testScheduler })),
      ).toBe(expected, { w: ['a', 'b'], x: ['A', 'B'], y: ['c'], z: ['C'] });
    });
  });

  it('keeps every element exactly once and in order within its key, with many keys', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ id: i, key: (i * 7919) % 13 }));
    const batches = await firstValueFrom(
      from(items).pipe(batchElements({ batchKeyFn: (x) => x.key, maxBatchSize: 16 }), toArray()),
    );
    for (const batch of batches) {
      expect(new Set(batch.map((x) => x.key)).size).toBe(1);
      expect(batch.length).toBeLessThanOrEqual(16);
    }
    const flat = batches.flat();
    expect(flat.map((x) => x.id).sort((a, b) => a - b)).toEqual(items.map((x) => x.id));
    for (let key = 0; key < 13; key++) {
      const ids = flat.filter((x) => x.key === key).map((x) => x.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
  });

  it('cuts 35 elements into [10, 10, 10, 5] with minBatchSize = maxBatchSize = 10', async () => {
    const sizes = await firstValueFrom(
      range(0, 35).pipe(
        batchElements({ minBatchSize: 10, maxBatchSize: 10 }),
        map((b) => b.length),
        toArray(),
      ),
    );
    expect(sizes).toEqual([10, 10, 10, 5]);
  });

  it('bounds batches by total weight (elementSizeFn + maxBatchWeight)', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const values = { a: 'xx', b: 'yyy', c: 'z', d: 'wwwww', e: 'v', f: 'uuuuuuuuu', g: 'tt' };
      const e1 = cold('  -(abcde)-(fg)-|', values);
      const expected = ' -(xy)----(uv)-|';

      expectObservable(
        e1.pipe(
          batchElements({
            elementSizeFn: (s: string) => s.length,
            maxBatchWeight: 6,
            minBatchSize: 100,
            maxBatchSize: 100,
            scheduler: testScheduler,
          }),
        ),
      ).toBe(expected, {
        x: ['xx', 'yyy', 'z'], // weight 6: full
        y: ['wwwww', 'v'], // weight 6: full
        u: ['uuuuuuuuu'], // heavier than the bound: alone
        v: ['tt'], // rest of the burst
      });
    });
  });

  it('holds back what does not fit the weight bound as a new partial batch, bounded in time', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -(ab)------|', { a: 3, b: 3 });
      const expected = ' -x----y----|';

      expectObservable(
        e1.pipe(
          batchElements({
            elementSizeFn: (x: number) => x,
            maxBatchWeight: 5,
            maxBatchDurationMs: 5,
            scheduler: testScheduler,
          }),
        ),
      ).toBe(expected, { x: [3], y: [3] });
    });
  });

  it('errors when batchKeyFn throws, keeping what was emitted', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-b-c-|');
      const e1subs = '   ^--!';
      const boom = new Error('no key for b');
      const batchKeyFn = (s: string) => {
        if (s === 'b') throw boom;
        return s;
      };
      expectObservable(
        e1.pipe(batchElements({ minBatchSize: 5, maxBatchSize: 5, batchKeyFn, scheduler: testScheduler })),
      ).toBe('-x-#', { x: ['a'] }, boom);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('errors with a TypeError naming elementSizeFn when a weight is invalid', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-a-|', { a: 'x' });
      const result = e1.pipe(batchElements({ elementSizeFn: () => -1, scheduler: testScheduler }));
      expectObservable(result).toBe(
        '-#',
        undefined,
        new TypeError(
          'Expected `elementSizeFn` to return a non-negative finite number, got `-1` (number) for element `x` (string).',
        ),
      );
    });
  });

  it("adapts to downstream time: batches taking 1 + 0.7·n ms grow 1, 2, 4, 8, 16, 27, 27, 27 (Beam's overhead case)", () => {
    testScheduler.run(({ cold, expectObservable }) => {
      // Downstream work "takes" 1 + 0.7·n ms of virtual time: a clock the downstream advances.
      let spent = 0;
      const clock: SchedulerLike = {
        now: () => testScheduler.now() + spent,
        schedule: testScheduler.schedule.bind(testScheduler),
      };
      const e1 = cold(`-(${'a'.repeat(112)})-|`);
      const result = e1.pipe(
        batchElements({ targetBatchOverhead: 0.05, targetBatchDurationMs: null, scheduler: clock }),
        tap((batch) => (spent += 1 + 0.7 * batch.length)),
        map((batch) => batch.length),
      );
      expectObservable(result).toBe(`-(abcdefgh)${'-'.repeat(105)}|`, {
        a: 1,
        b: 2,
        c: 4,
        d: 8,
        e: 16,
        f: 27,
        g: 27,
        h: 27,
      });
    });
  });

  it('with targetBatchDurationMs: 10 only, settles at 14 (1, 2, 4, 8, 14, 14, 14)', async () => {
    let spent = 0;
    const clock: SchedulerLike = {
      now: () => spent,
      schedule: testScheduler.schedule.bind(testScheduler),
    };
    const sizes = await firstValueFrom(
      range(0, 57).pipe(
        batchElements({ targetBatchDurationMs: 10, targetBatchOverhead: null, scheduler: clock }),
        tap((batch) => (spent += 1 + 0.7 * batch.length)),
        map((batch) => batch.length),
        toArray(),
      ),
    );
    expect(sizes).toEqual([1, 2, 4, 8, 14, 14, 14]);
  });

  it('flushes a synchronous burst in a microtask by default, without a timer delay', async () => {
    const subject = new Subject<number>();
    const batches: number[][] = [];
    subject.pipe(batchElements({ minBatchSize: 5, maxBatchSize: 5 })).subscribe((batch) => batches.push(batch));
    subject.next(1);
    subject.next(2);
    expect(batches).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1, 2]]);
    subject.next(3);
    subject.complete();
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('ignores notifications a misbehaving source sends after completing', () => {
    const batches: string[][] = [];
    let completions = 0;
    new Observable<string>((subscriber) => {
      subscriber.next('a');
      subscriber.complete();
      subscriber.next('b');
      subscriber.error(new Error('late'));
      subscriber.complete();
    })
      .pipe(batchElements({ minBatchSize: 5, maxBatchSize: 5 }))
      .subscribe({ next: (b) => batches.push(b), complete: () => completions++ });
    expect(batches).toEqual([['a']]);
    expect(completions).toBe(1);
  });

  describe('config validation', () => {
    it('rejects minBatchSize > maxBatchSize when the operator is created', () => {
      expect(() => batchElements({ minBatchSize: 20, maxBatchSize: 10 })).toThrow(
        expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(/maxBatchSize/) }),
      );
    });
    it('rejects a non-positive maxBatchSize', () => {
      expect(() => batchElements({ maxBatchSize: 0 })).toThrow(
        expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(/maxBatchSize/) }),
      );
    });
    it('rejects a targetBatchOverhead outside (0, 1]', () => {
      expect(() => batchElements({ targetBatchOverhead: 2 })).toThrow(
        expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(/targetBatchOverhead/) }),
      );
    });
    it('rejects a negative maxBatchDurationMs', () => {
      expect(() => batchElements({ maxBatchDurationMs: -1 })).toThrow(
        expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(/maxBatchDurationMs/) }),
      );
    });
    it('rejects a non-function batchKeyFn or elementSizeFn, and a bad scheduler', () => {
      expect(() => batchElements({ batchKeyFn: 'shape' as never })).toThrow(
        expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/batchKeyFn/) }),
      );
      expect(() => batchElements({ elementSizeFn: 1 as never })).toThrow(
        expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/elementSizeFn/) }),
      );
      expect(() => batchElements({ scheduler: { now: () => 0 } as never })).toThrow(
        expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/scheduler/) }),
      );
    });
  });

  it('is exported, with BatchSizeEstimator, from the root and the operators entry points', () => {
    expect(root.batchElements).toBe(batchElements);
    expect(operators.batchElements).toBe(batchElements);
    expect(root.BatchSizeEstimator).toBe(BatchSizeEstimator);
    expect(operators.BatchSizeEstimator).toBe(BatchSizeEstimator);
  });
});
