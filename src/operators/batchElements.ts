import { asapScheduler, Observable, Subject, takeUntil, type Subscription } from 'rxjs';
import type { Observer, OperatorFunction } from 'rxjs';
import type { BatchElementsConfig, BatchKey } from '../batching/BatchElementsConfig.js';
import { BatchQueue } from '../batching/BatchQueue.js';
import { BatchPolicy } from '../batching/BatchPolicy.js';
import { resolveBatchConfig } from '../batching/resolveBatchConfig.js';

export type { BatchElementsConfig } from '../batching/BatchElementsConfig.js';

/**
 * Groups elements into arrays whose size adapts to how long each batch takes downstream: Apache Beam's
 * `BatchElements`, for RxJS.
 *
 * Use it in front of work whose cost is `fixed + n · perElement` (a model call, a bulk insert, an HTTP batch API), so
 * that the fixed cost is shared by many elements without making batches slower than needed. The target size starts at
 * `minBatchSize` and adapts like Beam's estimator (see {@link BatchSizeEstimator}): the operator times the synchronous
 * part of delivering each batch downstream (with `scheduler.now()`), as Beam times the fused work after
 * `BatchElements`, and grows the size (at most ×2 per batch, up to `maxBatchSize`) until fixed overhead is at most
 * `targetBatchOverhead` of batch time or batch time reaches `targetBatchDurationMs`.
 *
 * A batch is emitted when:
 * - a group (see `batchKeyFn`) reaches the current target size, or its total weight reaches `maxBatchWeight`;
 * - `maxBatchDurationMs` has passed since the first element of a partial batch (time bound);
 * - without a time bound, the source goes quiet: at the end of the synchronous burst in which elements arrived (an
 *   action scheduled with delay 0 when a burst starts: on `asapScheduler` when no `scheduler` is given, so plain use
 *   adds no timer delay; on the given `scheduler` otherwise, where a `TestScheduler` runs it in the same frame);
 * - the source completes: the rest is flushed (oldest group first), then completion is forwarded.
 *
 * Each subscription has its own queue and its own estimator (so a resubscription, e.g. by `retry`, starts learning
 * again from `minBatchSize`).
 *
 * Elements with different keys never share a batch; a batch never holds more than `maxBatchSize` elements nor more
 * than `maxBatchWeight` total weight, except that one element heavier than that is emitted alone.
 *
 * With `minBatchSize: 3, maxBatchSize: 3` (so the size does not adapt) and no time bound, each lone element goes out
 * when the source goes quiet, and a synchronous burst `(ef)` goes out together:
 *
 * ```text
 * source:  -a-b-c-d-(ef)---g-|
 * result:  -x-y-z-w-v------u-|    x = [a], y = [b], z = [c], w = [d], v = [e, f], u = [g]
 * ```
 *
 * The same sizes with a time bound, `maxBatchDurationMs: 3`: `x` goes out when full, `y` when its time is up, `z`
 * on completion:
 *
 * ```text
 * source:  -abcd----e-|
 * result:  ---x---y---(z|)        x = [a, b, c], y = [d], z = [e]
 * ```
 *
 * On error, queued elements are dropped and the error is forwarded (batches already emitted stay emitted). On
 * unsubscribe, queued elements are dropped and every timer is cancelled. A throwing `batchKeyFn` or `elementSizeFn`
 * (or one returning a weight that is not a non-negative finite number) errors the stream.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { batchElements } from 'rxjs-inference/operators';
 *
 * from(sentences)
 *   .pipe(batchElements({ maxBatchSize: 64, batchKeyFn: (s) => Math.ceil(s.length / 32) }))
 *   .subscribe((batch) => embed(batch));
 * ```
 * @param config Batch sizes, targets, weights, keys, time bound and scheduler; validated now, throwing a
 *   `RangeError`/`TypeError` that names the field.
 * @returns An operator emitting arrays of elements, each element exactly once, in order within a key.
 */
export function batchElements<T>(config?: BatchElementsConfig<T>): OperatorFunction<T, T[]> {
  const resolved = resolveBatchConfig(config);
  const { scheduler, maxBatchDurationMs } = resolved;
  const timeBound = maxBatchDurationMs !== undefined;
  const quietScheduler = config?.scheduler === undefined ? asapScheduler : scheduler;

  return (source) =>
    new Observable<T[]>((subscriber) => {
      const policy = new BatchPolicy(resolved);
      const queue = new BatchQueue<T>(resolved);
      const timers = new Map<BatchKey, Subscription>();
      let quiet: Subscription | undefined;
      let done = false;

      const cancelTimer = (key: BatchKey): void => {
        const timer = timers.get(key);
        if (timer !== undefined) {
          timers.delete(key);
          timer.unsubscribe();
        }
      };
      const startTimer = (key: BatchKey): void => {
        timers.set(
          key,
          scheduler.schedule(() => {
            timers.delete(key);
            flushGroup(key);
          }, maxBatchDurationMs),
        );
      };
      const cancelAll = (): void => {
        for (const timer of timers.values()) timer.unsubscribe();
        timers.clear();
        quiet?.unsubscribe();
        quiet = undefined;
      };

      /** Takes one batch from group `key`, emits it, and feeds the estimator with the time it took downstream. */
      const emitFrom = (key: BatchKey): void => {
        const batch = queue.takeFrom(key, policy.target);
        if (timeBound) {
          cancelTimer(key);
          // What is left forms a new partial batch, bounded from now.
          if (queue.group(key) !== undefined && !done) startTimer(key);
        }
        const start = scheduler.now();
        subscriber.next(batch);
        policy.record(batch.length, Math.max(0, scheduler.now() - start));
      };
      const flushGroup = (key: BatchKey): void => {
        while (!subscriber.closed && queue.group(key) !== undefined) emitFrom(key);
      };
      const flushAll = (): void => {
        while (!subscriber.closed && queue.length > 0) emitFrom(queue.oldestKey());
      };

      const observer: Observer<T> = {
        next: (value) => {
          if (done) return;
          let state;
          try {
            state = queue.push(value);
          } catch (err) {
            observer.error(err);
            return;
          }
          if (timeBound) {
            if (state.count === 1) startTimer(state.key);
          } else if (quiet === undefined) {
            quiet = quietScheduler.schedule(() => {
              quiet = undefined;
              flushAll();
            }, 0);
          }
          const key = state.key;
          let group = queue.group(key);
          while (group !== undefined && policy.isFull(group)) {
            emitFrom(key);
            if (subscriber.closed) return;
            group = queue.group(key);
          }
        },
        error: (err) => {
          if (done) return;
          done = true;
          cancelAll();
          queue.clear();
          subscriber.error(err);
        },
        complete: () => {
          if (done) return;
          done = true;
          cancelAll();
          flushAll();
          subscriber.complete();
        },
      };

      // Public rxjs only. The finalizer is registered before the source is subscribed (a synchronous source may end
      // the subscription before `subscribe` returns); it fires `stop`, so `takeUntil` closes the source's own
      // subscriber at once and a synchronous infinite source stops before producing another element.
      const stop = new Subject<void>();
      subscriber.add(() => {
        done = true;
        cancelAll();
        queue.clear();
        stop.next();
      });
      source.pipe(takeUntil(stop)).subscribe(observer);
    });
}
