import { isObservable, Observable, take } from 'rxjs';
import type { ModelUpdate } from '../core/types.js';
import type { ModelHandler } from '../models/ModelHandler.js';
import { isThenable } from './async.js';

/**
 * The model a side-input value names, as an Observable of one value. A synchronous `loadModelFor` emits at once (no
 * Promise in between, so virtual time is kept); an Observable load takes its first value; a Promise load that
 * resolves after the subscriber left has its model released, so a late model never leaks.
 */
export function loadModel$<M>(handler: ModelHandler<any, any, M>, update: ModelUpdate): Observable<M> {
  return new Observable<M>((subscriber) => {
    let result: unknown;
    try {
      result = handler.loadModelFor(update);
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    if (isObservable(result)) {
      let got = false;
      return (result as Observable<M>).pipe(take(1)).subscribe({
        next: (model) => {
          got = true;
          subscriber.next(model);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          if (got) subscriber.complete();
          else subscriber.error(new Error('loadModel returned an Observable that completed without a model.'));
        },
      });
    }
    if (isThenable(result)) {
      let active = true;
      (result as PromiseLike<M>).then(
        (model) => {
          if (active) {
            subscriber.next(model);
            subscriber.complete();
          } else {
            releaseQuietly(handler, model);
          }
        },
        (error: unknown) => {
          if (active) subscriber.error(error);
        },
      );
      return () => {
        active = false;
      };
    }
    subscriber.next(result as M);
    subscriber.complete();
    return undefined;
  });
}

/** Releases a model, swallowing (but not leaving unhandled) a failure of the release itself. */
export function releaseQuietly<M>(handler: ModelHandler<any, any, M>, model: M): void {
  try {
    const done = handler.releaseModel(model);
    if (isThenable(done)) done.then(undefined, () => undefined);
  } catch {
    // A model that cannot be released cleanly has nothing more we can do for it; the stream carries on.
  }
}
