import { TestScheduler } from 'rxjs/testing';
import { AdaptiveThrottler } from '../../../src/index';

/** A deterministic random source (a linear congruential generator), uniform in [0, 1). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('AdaptiveThrottler', () => {
  it('never throttles without history', () => {
    const throttler = new AdaptiveThrottler({ random: () => 0 });
    expect(throttler.throttlingProbability(0)).toBe(0);
    expect(throttler.throttleRequest(0)).toBe(false);
  });

  it('computes max(0, (requests − K·accepts) / (requests + 1)) over the window', () => {
    const throttler = new AdaptiveThrottler({ windowMs: 10_000, bucketMs: 1000, overloadRatio: 2, random: () => 1 });
    for (let i = 0; i < 10; i++) throttler.throttleRequest(i * 100);
    expect(throttler.throttlingProbability(1000)).toBeCloseTo(10 / 11, 12);
    for (let i = 0; i < 3; i++) throttler.successfulRequest(i * 100);
    expect(throttler.throttlingProbability(1000)).toBeCloseTo((10 - 2 * 3) / 11, 12);
    for (let i = 0; i < 2; i++) throttler.successfulRequest(500);
    // 5 accepts of 10 requests: 10 − 2·5 = 0, never negative.
    expect(throttler.throttlingProbability(1000)).toBe(0);
    throttler.successfulRequest(500);
    expect(throttler.throttlingProbability(1000)).toBe(0);
  });

  it('uses K as configured', () => {
    const throttler = new AdaptiveThrottler({ overloadRatio: 1.25, random: () => 1 });
    for (let i = 0; i < 20; i++) throttler.throttleRequest(0);
    for (let i = 0; i < 8; i++) throttler.successfulRequest(0);
    expect(throttler.throttlingProbability(0)).toBeCloseTo((20 - 1.25 * 8) / 21, 12);
  });

  it('throttles exactly when random() < probability', () => {
    let next = 0;
    const throttler = new AdaptiveThrottler({ random: () => next });
    for (let i = 0; i < 4; i++) throttler.throttleRequest(0); // the probability after these is 4/5
    next = 0.79;
    expect(throttler.throttleRequest(0)).toBe(true); // probability was 4/5, now 5 requests recorded
    next = 5 / 6; // probability is now 5/6: equal is not below
    expect(throttler.throttleRequest(0)).toBe(false);
  });

  it('throttleAgain decides without counting a new request', () => {
    let next = 0.6;
    const throttler = new AdaptiveThrottler({ random: () => next });
    throttler.throttleRequest(0);
    expect(throttler.throttleRequest(0)).toBe(false); // probability 1/2 < 0.6; now 2 requests
    next = 0.5;
    for (let i = 0; i < 10; i++) expect(throttler.throttleAgain(0)).toBe(true); // 2/3, and stays 2/3
    expect(throttler.throttlingProbability(0)).toBeCloseTo(2 / 3, 12);
    next = 0.7;
    expect(throttler.throttleAgain(0)).toBe(false);
  });

  it('forgets what left the sliding window, bucket by bucket', () => {
    const throttler = new AdaptiveThrottler({ windowMs: 1000, bucketMs: 100, random: () => 1 });
    throttler.throttleRequest(50);
    throttler.throttleRequest(250);
    expect(throttler.throttlingProbability(999)).toBeCloseTo(2 / 3, 12);
    // The bucket [0, 100) leaves the window at 1000, the bucket [200, 300) at 1200.
    expect(throttler.throttlingProbability(1000)).toBeCloseTo(1 / 2, 12);
    expect(throttler.throttlingProbability(1199)).toBeCloseTo(1 / 2, 12);
    expect(throttler.throttlingProbability(1200)).toBe(0);
    // Old buckets are reused for new times without leaking their counts.
    throttler.throttleRequest(5000);
    expect(throttler.throttlingProbability(5000)).toBeCloseTo(1 / 2, 12);
  });

  it('reads the scheduler clock when no time is given', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const throttler = new AdaptiveThrottler({ windowMs: 100, bucketMs: 10, scheduler, random: () => 1 });
    scheduler.run(({ cold }) => {
      throttler.throttleRequest();
      cold('50ms a').subscribe(() => {
        expect(throttler.throttlingProbability()).toBeCloseTo(1 / 2, 12);
        throttler.successfulRequest();
        throttler.throttleRequest();
      });
      cold('150ms a').subscribe(() => {
        // The two requests of 0 and 50 left the window; the accept of 50 too.
        expect(throttler.throttlingProbability()).toBe(0);
      });
    });
  });

  it('cuts the request rate to a failing backend to a trickle, and lets it back up once it heals', () => {
    const throttler = new AdaptiveThrottler({ windowMs: 60_000, bucketMs: 1000, random: seeded(7) });
    // One attempt every 10 ms for 60 s; the backend rejects everything.
    let sent = 0;
    for (let t = 0; t < 60_000; t += 10) if (!throttler.throttleRequest(t)) sent++;
    // Each attempt is sent with probability about 1/(n + 1): about ln(6000) ≈ 9 of 6000 attempts.
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThan(40);
    // The backend heals: everything sent is accepted. Every accept makes the next send likelier, so the rate climbs
    // back (slowly at this attempt rate: throttled attempts count as requests, which is why RemoteModelHandler waits
    // `delayMs` between throttled attempts instead of asking again at once).
    const sentPerMinute: number[] = [];
    for (let t = 60_000; t < 660_000; t += 10) {
      const minute = Math.floor((t - 60_000) / 60_000);
      sentPerMinute[minute] ??= 0;
      if (!throttler.throttleRequest(t)) {
        sentPerMinute[minute]++;
        throttler.successfulRequest(t);
      }
    }
    expect(sentPerMinute[0]).toBeLessThan(100);
    expect(sentPerMinute[9]).toBe(6000);
  });

  it('settles where the backend accepts: above 1/K of requests nothing is throttled', () => {
    const throttler = new AdaptiveThrottler({ windowMs: 10_000, bucketMs: 100, random: seeded(3) });
    let throttled = 0;
    let sent = 0;
    // The backend accepts 60 % of what is sent (every sent request whose index % 5 < 3).
    for (let t = 0; t < 20_000; t += 5) {
      if (throttler.throttleRequest(t)) throttled++;
      else if (sent++ % 5 < 3) throttler.successfulRequest(t);
    }
    expect(throttled).toBe(0);
  });

  describe('config validation', () => {
    it.each([
      [{ windowMs: 0 }, 'RangeError', /windowMs/],
      [{ windowMs: 'x' }, 'TypeError', /windowMs/],
      [{ bucketMs: 2000, windowMs: 1000 }, 'RangeError', /bucketMs/],
      [{ overloadRatio: 0.5 }, 'RangeError', /overloadRatio/],
      [{ random: 1 }, 'TypeError', /random/],
      [{ scheduler: {} }, 'TypeError', /scheduler/],
    ])('rejects %p', (config, name, message) => {
      let thrown: unknown;
      try {
        new AdaptiveThrottler(config as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).name).toBe(name);
      expect((thrown as Error).message).toMatch(message);
    });
  });
});
