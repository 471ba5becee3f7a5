import { type SchedulerLike, VirtualTimeScheduler } from 'rxjs';

let hinted = false;

/**
 * Whether `scheduler` keeps virtual time: a TestScheduler (or any VirtualTimeScheduler) passed in, or the default
 * `asyncScheduler` inside `TestScheduler.run()` / jest-marbles, whose clock then reads frames from 0, not the epoch.
 */
export function isVirtualTime(scheduler: SchedulerLike): boolean {
  return scheduler instanceof VirtualTimeScheduler || scheduler.now() < 1e11;
}

/**
 * A pre/postprocess function returned a Promise while the operator runs in virtual time: the Promise settles after the
 * TestScheduler has flushed, so a marble test sees nothing of that element and would get no hint why. Says so once
 * per process (console.warn), naming the fix: return an Observable, which stays in virtual time.
 */
export function hintPromiseInVirtualTime(stage: 'preprocess' | 'postprocess', scheduler: SchedulerLike): void {
  if (hinted || !isVirtualTime(scheduler)) return;
  hinted = true;
  console.warn(
    `rxjs-inference: a ${stage} function returned a Promise while runInference runs on a virtual-time scheduler ` +
      '(TestScheduler, jest-marbles). A Promise settles outside virtual time, after the test scheduler has flushed, ' +
      `so the marble test sees nothing of that element. Return an Observable from the ${stage} function instead ` +
      '(e.g. `timer(5).pipe(map(() => value))`, or `of(value)`): it stays in virtual time.',
  );
}
