import { Observable, Subject, type Subscription } from 'rxjs';
import { type Either, isLeft } from 'fp-ts/lib/Either.js';
import type { FailedRecord } from '../core/types.js';

/**
 * Splits the output of `withExceptionHandling` into `[successes$, failures$]` (Beam's main output and dead letters).
 *
 * The source is subscribed once, when BOTH halves have a subscriber, so the pipeline runs once and nothing emitted
 * synchronously is missed; it is unsubscribed when both halves have none. Errors and completion go to both halves.
 * The pair is single-use: subscribe to each half (once or several times) before the source completes.
 *
 * ```text
 * source:    -R-L-R-|
 * successes: -a---c-|
 * failures:  ---b---|
 * ```
 *
 * @example
 * ```ts
 * const [results$, failures$] = partitionFailures(source$.pipe(withExceptionHandling(runInference(handler))));
 * failures$.subscribe(writeDeadLetter);
 * results$.subscribe(handleResult);
 * ```
 *
 * @param results$ A stream of `Either<FailedRecord, Out>`.
 * @returns `[successes$, failures$]`.
 */
export function partitionFailures<Out, E = unknown>(
  results$: Observable<Either<FailedRecord<E>, Out>>,
): [Observable<Out>, Observable<FailedRecord<E>>] {
  const successes = new Subject<Out>();
  const failures = new Subject<FailedRecord<E>>();
  const subscribers = [0, 0];
  let connection: Subscription | undefined;

  const half = <T>(subject: Subject<T>, side: 0 | 1): Observable<T> =>
    new Observable<T>((subscriber) => {
      const inner = subject.subscribe(subscriber);
      subscribers[side]++;
      if (connection === undefined && subscribers[0] > 0 && subscribers[1] > 0) {
        connection = results$.subscribe({
          next: (result) => (isLeft(result) ? failures.next(result.left) : successes.next(result.right)),
          error: (error: unknown) => {
            successes.error(error);
            failures.error(error);
          },
          complete: () => {
            successes.complete();
            failures.complete();
          },
        });
      }
      return () => {
        inner.unsubscribe();
        subscribers[side]--;
        if (subscribers[0] === 0 && subscribers[1] === 0) {
          connection?.unsubscribe();
        }
      };
    });

  return [half(successes, 0), half(failures, 1)];
}
