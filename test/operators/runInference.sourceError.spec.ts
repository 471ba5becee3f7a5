import { concat, mergeMap, of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { right } from 'fp-ts/lib/Either.js';
import { BufferOverflowError, FakeModelHandler, runInference, withExceptionHandling } from '../../src/index';

function testScheduler(): TestScheduler {
  return new TestScheduler((a, b) => expect(a).toEqual(b));
}

// #13 item 7: what was accepted before a source error is completed before the error goes downstream.
describe('runInference when the source errors', () => {
  it('plain: the batches in flight and the elements queued still come out, then the error', () => {
    const scheduler = testScheduler();
    const handler = new FakeModelHandler({ run: (x: string) => x.toUpperCase(), latencyMs: 3 });
    scheduler.run(({ cold, expectObservable }) => {
      // a runs 0→3; b, c queue and run 3→6 as one batch; the source errors at 2.
      expectObservable(cold('abc#').pipe(runInference(handler, { scheduler, metrics: false }))).toBe('---A--(BC#)', {
        A: 'A',
        B: 'B',
        C: 'C',
      });
    });
  });

  it('exception mode: results and failure records of the accepted elements, in order, then the error', () => {
    const scheduler = testScheduler();
    const handler = new FakeModelHandler({
      run: (x: string) => {
        if (x === 'b') throw new Error('poison');
        return x.toUpperCase();
      },
      latencyMs: 2,
    });
    const seen: string[] = [];
    scheduler.run(({ cold }) => {
      cold('ab-c#')
        .pipe(withExceptionHandling(runInference(handler, { scheduler, metrics: false })))
        .subscribe({
          next: (r) =>
            seen.push(
              r._tag === 'Left' ? `L:${String(r.left.element)}@${scheduler.now()}` : `${r.right}@${scheduler.now()}`,
            ),
          error: (e: unknown) => seen.push(`error:${String(e)}@${scheduler.now()}`),
        });
    });
    // a 0→2; b 2→4 (fails; bisection has nothing to split); c 4→6; the error waits for c.
    expect(seen).toEqual(['A@2', 'L:b@4', 'C@6', 'error:error@6']);
  });

  it('a synchronous source that errors: every element it gave is completed first', async () => {
    const handler = new FakeModelHandler({ run: (x: number) => x * 2 });
    const got: number[] = [];
    const error = await new Promise<unknown>((resolve) =>
      concat(
        of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
        throwError(() => new Error('source broke')),
      )
        .pipe(runInference(handler, { metrics: false }))
        .subscribe({ next: (x) => got.push(x), error: resolve }),
    );
    expect(got).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    expect((error as Error).message).toBe('source broke');
  });

  it('plain BufferOverflowError: the accepted elements get their results first, then the error', () => {
    const scheduler = testScheduler();
    const handler = new FakeModelHandler({ run: (x: number) => x, loadLatencyMs: 5, scheduler });
    const got: number[] = [];
    let error: unknown;
    scheduler.run(() => {
      of(...Array.from({ length: 10 }, (_, i) => i))
        .pipe(runInference(handler, { scheduler, metrics: false, maxBufferedElements: 4 }))
        .subscribe({ next: (x) => got.push(x), error: (e: unknown) => (error = e) });
    });
    expect(got).toEqual([0, 1, 2, 3]);
    expect(error).toBeInstanceOf(BufferOverflowError);
    expect((error as Error).message).toMatch(/element 4 does not fit/);
  });

  it('unordered too: nothing accepted is left behind', () => {
    const scheduler = testScheduler();
    const handler = new FakeModelHandler({
      run: (x: string) => x,
      latencyMs: (batch) => (batch.includes('a') ? 5 : 1),
    });
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(
        cold('a-b#').pipe(runInference(handler, { scheduler, metrics: false, ordered: false, concurrent: 2 })),
      ).toBe('---b-(a#)');
    });
  });
});

describe('withExceptionHandling(chain) when the source errors', () => {
  it('runs the queued elements through the chain before the error', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const chain = mergeMap((x: string) => cold('--v|', { v: x.toUpperCase() }));
      // a runs 0→3 (its value at 2), b waits and runs 3→6 (its value at 5); the source errors at 2.
      expectObservable(cold('ab#').pipe(withExceptionHandling(chain, { perElement: true }))).toBe('--a--b#', {
        a: right('A'),
        b: right('B'),
      });
    });
  });
});
