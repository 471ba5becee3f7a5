import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { runInference, withExceptionHandling } from 'rxjs-inference';
import { FakeModelHandler } from 'rxjs-inference/testing';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('runInference elementSignal', () => {
  it('takes an element aborted while queued out of its batch: the model never sees it', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, flush }) => {
      const handler = new FakeModelHandler({ run: (x: string) => x.toUpperCase(), latencyMs: 5 });
      const controller = new AbortController();
      // b queues behind a's 5 ms batch and is aborted at 3 ms, before the batch [b, c] is formed at 5 ms.
      scheduler.schedule(() => controller.abort(new Error('b cancelled')), 3);
      const result = cold('a-bc|').pipe(
        withExceptionHandling(
          runInference(handler, {
            scheduler,
            elementSignal: (x: string) => (x === 'b' ? controller.signal : undefined),
          }),
        ),
        map((r) => (isRight(r) ? r.right : `left: ${r.left.error.message}`)),
      );
      expectObservable(result).toBe('-----(ab)-(c|)', { a: 'A', b: 'left: b cancelled', c: 'C' });
      flush();
      expect(handler.batches).toEqual([['a'], ['c']]);
    });
  });

  it('skips a batch whose every element was aborted and runs the next live one', () => {
    const scheduler = testScheduler();
    scheduler.run(({ flush }) => {
      const handler = new FakeModelHandler({ run: (x: number) => x * 10, latencyMs: 4 });
      const aborted = AbortSignal.abort('gone');
      const outcomes: unknown[] = [];
      const subject = scheduler.createColdObservable('(abcd|)', { a: 1, b: 2, c: 3, d: 4 });
      subject
        .pipe(
          withExceptionHandling(
            runInference(handler, {
              scheduler,
              batch: { maxBatchSize: 1 },
              elementSignal: (x: number) => (x === 2 || x === 3 ? aborted : undefined),
            }),
          ),
        )
        .subscribe((r) => outcomes.push(isLeft(r) ? r.left.error.message : r.right));
      flush();
      expect(handler.batches).toEqual([[1], [4]]);
      expect(outcomes).toEqual([10, 'gone', 'gone', 40]);
    });
  });

  it('after dispatch the signal is not read: the result is delivered', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const handler = new FakeModelHandler({ run: (x: string) => x.toUpperCase(), latencyMs: 5 });
      const controller = new AbortController();
      scheduler.schedule(() => controller.abort(), 2);
      const result = cold('a|').pipe(runInference(handler, { scheduler, elementSignal: () => controller.signal }));
      expectObservable(result).toBe('-----(A|)', { A: 'A' });
    });
  });

  it('without withExceptionHandling, an aborted element errors the stream with the reason', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const handler = new FakeModelHandler({ run: (x: string) => x.toUpperCase(), latencyMs: 5 });
      const reason = new Error('stop');
      const result = cold('ab|').pipe(
        runInference(handler, { scheduler, elementSignal: (x) => (x === 'b' ? AbortSignal.abort(reason) : undefined) }),
      );
      expectObservable(result).toBe('-----(A#)', { A: 'A' }, reason);
    });
  });

  it('a throwing elementSignal fails that element only', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const handler = new FakeModelHandler({ run: (x: string) => x.toUpperCase() });
      const result = cold('ab|').pipe(
        withExceptionHandling(
          runInference(handler, {
            scheduler,
            batch: { maxBatchSize: 1 },
            elementSignal: (x) => {
              if (x === 'a') throw new Error('bad signal');
              return undefined;
            },
          }),
        ),
      );
      expectObservable(result).toBe('ab|', {
        a: expect.objectContaining({ _tag: 'Left', left: expect.objectContaining({ element: 'a' }) }),
        b: expect.objectContaining({ _tag: 'Right', right: 'B' }),
      });
    });
  });

  describe('config validation', () => {
    it('rejects a non-function elementSignal', () => {
      const handler = new FakeModelHandler({ run: (x: string) => x });
      expect(() => runInference(handler, { elementSignal: 5 as never })).toThrow(
        expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/elementSignal/) }),
      );
    });
  });
});
