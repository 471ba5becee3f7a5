import { from, type ObservableInput, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import { InferenceTimeoutError, toError } from '../../core/errors.js';
import type { AdaptiveThrottler } from './AdaptiveThrottler.js';
import { RemoteInferenceError, type RemoteFailureReason } from './RemoteInferenceError.js';
import type { RequestSemaphore, SemaphoreTicket } from './RequestSemaphore.js';
import { backoffDelay, isAcceptedAnswer, retryAfterOf, statusOf, type ResolvedRetry } from './retryPolicy.js';

/** Mutable counters shared by every call of one handler (read through `RemoteModelHandler.stats`). */
export interface RemoteCounters {
  requests: number;
  successes: number;
  failedRequests: number;
  retries: number;
  throttledRequests: number;
  throttledMs: number;
  failedBatches: number;
}

/** Everything one call needs from its handler, resolved for this batch. */
export interface RemoteCallSettings {
  readonly send: (attempt: number, signal: AbortSignal) => unknown;
  readonly batchSize: number;
  readonly retry: ResolvedRetry;
  readonly retryFilter: (error: unknown) => boolean;
  readonly throttler: AdaptiveThrottler | undefined;
  readonly throttleDelayMs: number;
  readonly semaphore: RequestSemaphore;
  readonly timeoutMs: number | undefined;
  readonly deadlineMs: number | undefined;
  readonly scheduler: SchedulerLike;
  readonly random: () => number;
  readonly counters: RemoteCounters;
  readonly signal: AbortSignal;
}

/**
 * One batch's life: throttle check → wait for a concurrency slot → request (with its timeout) → success, or backoff
 * and again, until the attempts or the deadline run out. All waiting is `scheduler.schedule`, all results are
 * callbacks, so a call whose `request` returns arrays or Observables runs entirely in virtual time.
 */
export class RemoteCall {
  private attempt = 0;
  private attemptId = 0;
  private lastError: unknown;
  private finished = false;
  private deadlineAt = Infinity;
  private wait: Subscription | undefined;
  private deadlineTimer: Subscription | undefined;
  private timeoutTimer: Subscription | undefined;
  private inner: Subscription | undefined;
  private ticket: SemaphoreTicket | undefined;
  private controller: AbortController | undefined;
  private readonly onAbort = (): void => {
    const reason = this.s.signal.reason;
    this.fail('aborted', `Remote model request aborted: ${toError(reason).message}`, reason);
  };

  constructor(
    private readonly s: RemoteCallSettings,
    private readonly subscriber: Subscriber<unknown[]>,
  ) {}

  start(): void {
    const { scheduler, deadlineMs, signal } = this.s;
    if (signal.aborted) return this.onAbort();
    signal.addEventListener('abort', this.onAbort);
    if (deadlineMs !== undefined) {
      this.deadlineAt = scheduler.now() + deadlineMs;
      this.deadlineTimer = scheduler.schedule(() => this.failDeadline(), deadlineMs);
    }
    this.next();
  }

  /** Stops everything without notifying (the subscriber unsubscribed). */
  cancel(): void {
    this.cleanup(true);
  }

  /** Starts an attempt: asks the throttler (waiting and asking again while throttled), then waits for a slot. */
  private next(recheck = false): void {
    this.wait = undefined;
    if (this.finished) return;
    const { throttler, scheduler, throttleDelayMs, counters } = this.s;
    const now = scheduler.now();
    if (throttler && (recheck ? throttler.throttleAgain(now) : throttler.throttleRequest(now))) {
      // Beam's RemoteModelHandler: when throttled, sleep `throttle_delay_secs` and ask again; it costs no attempt.
      counters.throttledRequests++;
      if (now + throttleDelayMs >= this.deadlineAt) return this.failDeadline();
      this.wait = scheduler.schedule(() => {
        counters.throttledMs += throttleDelayMs;
        this.next(true);
      }, throttleDelayMs);
      return;
    }
    const ticket = this.s.semaphore.acquire((granted) => this.send(granted));
    // Still queued: keep the ticket, so that a cancel leaves the queue. (Granted: send() owns it.)
    if (ticket.waiting) this.ticket = ticket;
  }

  private send(ticket: SemaphoreTicket): void {
    this.ticket = ticket;
    if (this.finished) return ticket.release();
    const { scheduler, timeoutMs, counters } = this.s;
    // Granted at the very end of the deadline (its timer shares the instant): a request now would be aborted at once.
    if (scheduler.now() >= this.deadlineAt) return this.failDeadline();
    const id = ++this.attemptId;
    const attempt = ++this.attempt;
    const sentAt = scheduler.now();
    const controller = new AbortController();
    this.controller = controller;
    counters.requests++;
    if (timeoutMs !== undefined) {
      this.timeoutTimer = scheduler.schedule(() => {
        if (id !== this.attemptId) return;
        const error = new InferenceTimeoutError(
          `Remote model request (attempt ${attempt}) timed out after ${timeoutMs} ms.`,
          timeoutMs,
        );
        controller.abort(error);
        this.onFailure(id, sentAt, error);
      }, timeoutMs);
    }
    let result: unknown;
    try {
      result = this.s.send(attempt, controller.signal);
    } catch (error) {
      return this.onFailure(id, sentAt, error);
    }
    if (Array.isArray(result)) return this.onSuccess(id, sentAt, result);
    let received = false;
    let subscription: Subscription;
    try {
      subscription = from(result as ObservableInput<unknown>).subscribe({
        next: (value) => {
          if (received) return;
          received = true;
          this.onSuccess(id, sentAt, value);
        },
        error: (error: unknown) => this.onFailure(id, sentAt, error),
        complete: () => {
          if (!received) this.onFailure(id, sentAt, new TypeError('Remote model request completed without a value.'));
        },
      });
    } catch (error) {
      // `from()` rejects what is not an array, a Promise, an Observable or an iterable.
      return this.onFailure(id, sentAt, error);
    }
    // A synchronous result has already ended this attempt; otherwise keep the subscription to cancel it.
    if (id === this.attemptId && !this.finished && !received) this.inner = subscription;
    else subscription.unsubscribe();
  }

  /** Ends the current attempt: its timer, its subscription, its concurrency slot; aborts it when it failed. */
  private endAttempt(abort: boolean): void {
    this.attemptId++;
    this.timeoutTimer?.unsubscribe();
    this.timeoutTimer = undefined;
    this.inner?.unsubscribe();
    this.inner = undefined;
    if (abort && this.controller && !this.controller.signal.aborted) {
      this.controller.abort(new Error('Remote model request cancelled.'));
    }
    this.controller = undefined;
    this.ticket?.release();
    this.ticket = undefined;
  }

  private onSuccess(id: number, sentAt: number, value: unknown): void {
    if (id !== this.attemptId || this.finished) return;
    this.endAttempt(false);
    const { counters, throttler, batchSize } = this.s;
    counters.successes++;
    throttler?.successfulRequest(sentAt);
    // An answer came: an earlier attempt's error (and its HTTP status) no longer describes the call (#13 item 12).
    this.lastError = undefined;
    if (!Array.isArray(value) || value.length !== batchSize) {
      const got = Array.isArray(value) ? `${value.length} outputs` : `a ${value === null ? 'null' : typeof value}`;
      const error = new TypeError(`Expected one output per input (${batchSize}), got ${got}.`);
      return this.fail('bad-response', `Remote model response is malformed: ${error.message}`, error);
    }
    this.finished = true;
    this.cleanup(false);
    this.subscriber.next(value);
    this.subscriber.complete();
  }

  private onFailure(id: number, sentAt: number, thrown: unknown): void {
    if (id !== this.attemptId || this.finished) return;
    this.endAttempt(true);
    const { counters, throttler, retry, retryFilter, scheduler } = this.s;
    counters.failedRequests++;
    this.lastError = thrown;
    // The SRE book's "accepts": the backend answered and did not signal overload (a 400 is an accept).
    if (throttler && isAcceptedAnswer(thrown)) throttler.successfulRequest(sentAt);
    let retryable: boolean;
    try {
      retryable = retryFilter(thrown);
    } catch (filterError) {
      return this.fail('not-retryable', `retryFilter threw: ${toError(filterError).message}`, filterError);
    }
    if (!retryable) return this.fail('not-retryable', this.describe('failed'), thrown);
    if (this.attempt >= retry.maxAttempts) return this.fail('attempts-exhausted', this.describe('failed'), thrown);
    const now = scheduler.now();
    const backoff = backoffDelay(this.attempt, retry, this.s.random);
    const retryAfter = retryAfterOf(thrown, now);
    const delay = retryAfter === undefined ? backoff : Math.max(backoff, retryAfter);
    // Waiting past the deadline would only delay the failure.
    if (now + delay >= this.deadlineAt) return this.failDeadline();
    counters.retries++;
    this.wait = scheduler.schedule(() => this.next(), delay);
  }

  private failDeadline(): void {
    const cause =
      this.lastError ??
      new InferenceTimeoutError(`No request could be sent within ${this.s.deadlineMs} ms.`, this.s.deadlineMs ?? 0);
    this.fail('deadline', this.describe(`did not succeed within the deadline of ${this.s.deadlineMs} ms`), cause);
  }

  private describe(what: string): string {
    const status = statusOf(this.lastError);
    const last = this.lastError === undefined ? '' : `: ${toError(this.lastError).message}`;
    const plural = this.attempt === 1 ? 'attempt' : 'attempts';
    return `Remote model request ${what} after ${this.attempt} ${plural}${status === undefined ? '' : ` (HTTP ${status})`}${last}`;
  }

  private fail(reason: RemoteFailureReason, message: string, cause: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.s.counters.failedBatches++;
    this.cleanup(true);
    const status = statusOf(cause) ?? statusOf(this.lastError);
    this.subscriber.error(new RemoteInferenceError(message, this.s.batchSize, reason, this.attempt, status, { cause }));
  }

  private cleanup(abort: boolean): void {
    this.finished = true;
    this.endAttempt(abort);
    this.wait?.unsubscribe();
    this.wait = undefined;
    this.deadlineTimer?.unsubscribe();
    this.deadlineTimer = undefined;
    this.s.signal.removeEventListener('abort', this.onAbort);
  }
}
