import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';

/**
 * Schedules `work` as a one-shot action owned by `owner` (as rxjs's `executeSchedule` does): unsubscribing `owner`
 * cancels it, and once it has run — or is unsubscribed — it leaves `owner`. An executed action is otherwise kept open
 * (schedulers recycle actions), so a long-lived owner that collects one per wake-up grows forever (#13 item 3).
 */
export function scheduleOwned(
  owner: Subscription,
  scheduler: SchedulerLike,
  work: () => void,
  delay = 0,
): Subscription {
  const action = scheduler.schedule(function (this: SchedulerAction<unknown>) {
    this.unsubscribe();
    work();
  }, delay);
  if (!action.closed) owner.add(action);
  return action;
}
