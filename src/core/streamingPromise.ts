import { Observable, observable, type Subscriber } from 'rxjs';
import type { PartialOutput } from './PartialOutput.js';

/**
 * A Promise of a batch's results that is ALSO an interop Observable (`rxjs`' `observable` symbol) emitting the
 * batch's partial outputs as they come, then the results. Awaiting it gives the results (direct callers of a
 * handler's `runInference` keep their Promise type); `from()` — what the engine does with a handler's result —
 * reads the Observable face, so `streamInference` gets the partial outputs.
 *
 * `run` starts at once (as a Promise does) and receives `emit`. Partial outputs emitted before the Observable face is
 * subscribed are kept and replayed to its first subscriber (until the Promise settles); after that subscriber
 * unsubscribes they are dropped.
 */
export function streamingPromise<T>(run: (emit: (partial: PartialOutput) => void) => Promise<T>): Promise<T> {
  let listener: Subscriber<T | PartialOutput> | undefined;
  let early: PartialOutput[] | undefined = [];
  const emit = (partial: PartialOutput): void => {
    if (listener !== undefined) listener.next(partial);
    else early?.push(partial);
  };
  const promise = run(emit);
  void promise.then(
    () => (early = undefined),
    () => (early = undefined),
  );
  Object.defineProperty(promise, observable, {
    value: () =>
      new Observable<T | PartialOutput>((subscriber) => {
        if (early !== undefined) {
          listener = subscriber;
          for (const partial of early.splice(0)) subscriber.next(partial);
          early = undefined;
        }
        promise.then(
          (results) => {
            subscriber.next(results);
            subscriber.complete();
          },
          (error: unknown) => subscriber.error(error),
        );
        return () => {
          if (listener === subscriber) listener = undefined;
        };
      }),
  });
  return promise;
}
