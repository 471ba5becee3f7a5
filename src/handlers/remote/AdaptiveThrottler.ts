import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { checkFunction, checkNumber, checkObject, checkScheduler } from '../../core/validate.js';

/** Settings of an {@link AdaptiveThrottler} (Beam's `AdaptiveThrottler(window_ms, bucket_ms, overload_ratio)`). */
export interface AdaptiveThrottlerConfig {
  /**
   * How much history the throttler looks at, in milliseconds. Beam's `RemoteModelHandler` uses one minute: long
   * enough to smooth a burst of failures, short enough to recover within a minute once the backend heals.
   * @default 60000
   */
  readonly windowMs?: number;
  /** Granularity of that history: counts are kept in buckets of this many milliseconds. @default 1000 */
  readonly bucketMs?: number;
  /**
   * `K` in the SRE book's formula: how many requests per accepted request the client may send before it starts
   * rejecting locally. The SRE book and Beam's `RemoteModelHandler` both use 2 (Beam's Datastore IO uses 1.25, which
   * reacts faster but wastes more of a healthy backend's spare capacity). Must be at least 1.
   * @default 2
   */
  readonly overloadRatio?: number;
  /** Clock used when a method is called without `now`. @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
  /** Random source in [0, 1) for the throttling decision (inject for determinism). @default Math.random */
  readonly random?: () => number;
}

/** A sum over a sliding window, kept in fixed-size time buckets (Beam's `util.MovingSum`). */
class MovingSum {
  private readonly sums: number[];
  private readonly counts: number[];
  private readonly bucketIds: number[];

  constructor(
    private readonly windowMs: number,
    private readonly bucketMs: number,
  ) {
    const n = Math.ceil(windowMs / bucketMs);
    this.sums = new Array<number>(n).fill(0);
    this.counts = new Array<number>(n).fill(0);
    this.bucketIds = new Array<number>(n).fill(Number.NEGATIVE_INFINITY);
  }

  add(now: number, value: number): void {
    const id = Math.floor(now / this.bucketMs);
    const slot = ((id % this.sums.length) + this.sums.length) % this.sums.length;
    if (this.bucketIds[slot] !== id) {
      this.bucketIds[slot] = id;
      this.sums[slot] = 0;
      this.counts[slot] = 0;
    }
    this.sums[slot] += value;
    this.counts[slot] += 1;
  }

  /** Sum of the values added in the window ending at `now`, and how many adds that was. */
  read(now: number): { sum: number; count: number } {
    const newest = Math.floor(now / this.bucketMs);
    const oldest = Math.floor((now - this.windowMs) / this.bucketMs);
    let sum = 0;
    let count = 0;
    for (let i = 0; i < this.sums.length; i++) {
      if (this.bucketIds[i] > oldest && this.bucketIds[i] <= newest) {
        sum += this.sums[i];
        count += this.counts[i];
      }
    }
    return { sum, count };
  }
}

/**
 * Client-side adaptive throttling: the "accepts versus requests" throttler of Google's SRE book (chapter "Handling
 * Overload"), as Apache Beam implements it in `apache_beam.io.components.adaptive_throttler`.
 *
 * The client counts, over a sliding window, the `requests` it tried to send and the `accepts` the backend answered
 * without signalling overload. It rejects a new request locally with probability
 * `max(0, (requests − K·accepts) / (requests + 1))`. While the backend is healthy `requests ≈ accepts` and nothing
 * is rejected; when it fails, the client sends fewer and fewer requests — never zero (the `+ 1`), so it notices
 * recovery. Requests rejected locally still count as requests, as in the book and in Beam.
 *
 * Call `throttleRequest()` before each attempt (it records the attempt) and `successfulRequest()` once the backend
 * accepted it. `RemoteModelHandler` does this for you, waiting and asking again when throttled.
 *
 * @example
 * ```ts
 * import { AdaptiveThrottler } from 'rxjs-inference/handlers';
 *
 * const throttler = new AdaptiveThrottler({ windowMs: 60_000, overloadRatio: 2 });
 * if (!throttler.throttleRequest()) {
 *   const response = await fetch(url);
 *   if (response.status < 500 && response.status !== 429) throttler.successfulRequest();
 * }
 * ```
 */
export class AdaptiveThrottler {
  /** Requests allowed per window even if none succeeds (the `+ 1` of the formula). */
  static readonly MIN_REQUESTS = 1;

  private readonly allRequests: MovingSum;
  private readonly successfulRequests: MovingSum;
  private readonly overloadRatio: number;
  private readonly scheduler: SchedulerLike;
  private readonly random: () => number;

  constructor(config: AdaptiveThrottlerConfig = {}) {
    checkObject('config', config);
    const { windowMs = 60_000, bucketMs = 1000, overloadRatio = 2, scheduler = asyncScheduler, random } = config;
    checkNumber('windowMs', windowMs, { min: 0, exclusiveMin: true });
    checkNumber('bucketMs', bucketMs, { min: 0, exclusiveMin: true, max: windowMs });
    checkNumber('overloadRatio', overloadRatio, { min: 1 }, 'a number >= 1');
    checkScheduler('scheduler', scheduler);
    checkFunction('random', random);
    this.allRequests = new MovingSum(windowMs, bucketMs);
    this.successfulRequests = new MovingSum(windowMs, bucketMs);
    this.overloadRatio = overloadRatio;
    this.scheduler = scheduler;
    this.random = random ?? Math.random;
  }

  /** Probability that a request made at `now` is rejected locally, from the counts of the window ending at `now`. */
  throttlingProbability(now: number = this.scheduler.now()): number {
    const requests = this.allRequests.read(now);
    if (requests.count === 0) return 0;
    const accepts = this.successfulRequests.read(now).sum;
    return Math.max(0, (requests.sum - this.overloadRatio * accepts) / (requests.sum + AdaptiveThrottler.MIN_REQUESTS));
  }

  /**
   * Decides whether one attempt should be throttled, and records it as a request. Call it once each time you intend
   * to send; when it returns `true`, delay (then call it again) or drop the request.
   * @param now - time in milliseconds; defaults to the configured scheduler's clock.
   * @returns `true` if the caller should not send the request now.
   */
  throttleRequest(now: number = this.scheduler.now()): boolean {
    const probability = this.throttlingProbability(now);
    this.allRequests.add(now, 1);
    return this.random() < probability;
  }

  /**
   * Decides again, after a wait, whether a request that `throttleRequest()` throttled may now be sent, without
   * counting it as one more request. `RemoteModelHandler` uses this for its wait-and-ask-again loop: in Beam every
   * re-check counts as a new request, so a quiet client that saw one failure keeps its probability near 1 (n re-checks
   * give n/(n + 1)) long after the backend healed. Here one request counts once, however long it waits.
   * @returns `true` if the caller should keep waiting.
   */
  throttleAgain(now: number = this.scheduler.now()): boolean {
    return this.random() < this.throttlingProbability(now);
  }

  /**
   * Records that a request the backend accepted (answered without signalling overload) was sent at `now`. Call it
   * once per accepted request for which `throttleRequest()` returned `false`.
   */
  successfulRequest(now: number = this.scheduler.now()): void {
    this.successfulRequests.add(now, 1);
  }
}
