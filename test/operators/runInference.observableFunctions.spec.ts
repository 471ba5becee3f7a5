import { type Either, isLeft } from 'fp-ts/lib/Either.js';
import { EMPTY, map, type Observable, throwError, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { type FailedRecord, runInference, withExceptionHandling } from 'rxjs-inference';
import { FakeModelHandler } from 'rxjs-inference/testing';

// Pre- and postprocess functions may return Observables: the first value continues the chain, on the Observable's own
// schedule, so under a TestScheduler everything stays in virtual time (issue 16).
const describeEither = (e: Either<FailedRecord, unknown>): unknown =>
  isLeft(e) ? `${e.left.stage} ${e.left.index}: ${e.left.error.message}` : e.right;

function marbles(run: (helpers: Parameters<Parameters<TestScheduler['run']>[0]>[0]) => void): void {
  new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(run);
}

describe('pre/postprocess functions returning Observables', () => {
  it('a postprocess Observable delays its result in virtual time; order is kept', () => {
    marbles(({ cold, expectObservable }) => {
      const handler = new FakeModelHandler({ run: (x: number) => x }).withPostprocessFn((x: number) =>
        timer(x).pipe(map(() => x * 10)),
      );
      // Element 1 is post-processed for 3 frames, element 2 for 1 frame: 2 waits for 1 (ordered output).
      const source = cold('-a-b------|', { a: 3, b: 1 });
      expectObservable(source.pipe(runInference(handler, { metrics: false }))).toBe('----(AB)--|', { A: 30, B: 10 });
    });
  });

  it('an Observable that errors or completes empty fails its element, naming the function', () => {
    marbles(({ cold, expectObservable }) => {
      const handler = new FakeModelHandler({ run: (x: number) => x })
        .withPreprocessFn((x: number): Observable<number> =>
          x === 2 ? throwError(() => new Error('lookup failed')) : timer(1).pipe(map(() => x)),
        )
        .withPreprocessFn((x: number): Observable<number> => (x === 3 ? EMPTY : timer(1).pipe(map(() => x))));
      const source = cold('-a-b-c-|', { a: 1, b: 2, c: 3 });
      const out = source.pipe(withExceptionHandling(runInference(handler, { metrics: false })), map(describeEither));
      // withPreprocessFn prepends: the EMPTY one runs first (index 0), the throwing one second (index 1).
      expectObservable(out).toBe('---abc-|', {
        a: 1,
        b: 'preprocess 1: Preprocess function 1 failed: lookup failed',
        c: 'preprocess 0: Preprocess function 0 failed: The preprocess function returned an Observable that completed without a value.',
      });
    });
  });

  it('an Observable that never emits fails after timeoutMs and is unsubscribed', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const never = cold<number>('-');
      const handler = new FakeModelHandler({ run: (x: number) => x }).withPreprocessFn((x: number) =>
        x === 2 ? never : timer(0).pipe(map(() => x)),
      );
      const source = cold('-a-b-|', { a: 1, b: 2 });
      const out = source.pipe(
        withExceptionHandling(runInference(handler, { metrics: false, timeoutMs: 4 })),
        map(describeEither),
      );
      expectObservable(out).toBe('-a-----(b|)', {
        a: 1,
        b: 'preprocess 0: Preprocess function 0 took longer than timeoutMs (4 ms) on element 1.',
      });
      expectSubscriptions(never.subscriptions).toBe('---^---!');
    });
  });
});
