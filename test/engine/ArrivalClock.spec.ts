import { Subscription, VirtualTimeScheduler } from 'rxjs';
import { ArrivalClock, RUN_LENGTH } from '../../src/engine/ArrivalClock';

describe('ArrivalClock', () => {
  /** A clock that counts its reads and moves by 1 per read, so a reused stamp is visible. */
  const counting = () => {
    const state = { reads: 0 };
    return { state, clock: () => ++state.reads };
  };

  it("'exact' reads the clock for every arrival", () => {
    const { state, clock } = counting();
    const arrival = new ArrivalClock(clock, 'exact', new VirtualTimeScheduler(), new Subscription());
    expect([arrival.now(), arrival.now(), arrival.now()]).toEqual([1, 2, 3]);
    expect(state.reads).toBe(3);
  });

  it("'off' never reads the clock", () => {
    const { state, clock } = counting();
    const arrival = new ArrivalClock(clock, 'off', new VirtualTimeScheduler(), new Subscription());
    for (let i = 0; i < 100; i++) arrival.now();
    expect(state.reads).toBe(0);
  });

  it(`'run' stamps at most ${RUN_LENGTH} arrivals with one read`, () => {
    const { state, clock } = counting();
    const arrival = new ArrivalClock(clock, 'run', new VirtualTimeScheduler(), new Subscription());
    const stamps = Array.from({ length: 2 * RUN_LENGTH + 1 }, () => arrival.now());
    expect(state.reads).toBe(3);
    expect(stamps.slice(0, RUN_LENGTH).every((t) => t === 1)).toBe(true);
    expect(stamps.slice(RUN_LENGTH, 2 * RUN_LENGTH).every((t) => t === 2)).toBe(true);
    expect(stamps[2 * RUN_LENGTH]).toBe(3);
  });

  it("'run' reads again after engine work (invalidate) and after the burst ends", () => {
    const { state, clock } = counting();
    const burst = new VirtualTimeScheduler();
    const owner = new Subscription();
    const arrival = new ArrivalClock(clock, 'run', burst, owner);
    expect([arrival.now(), arrival.now()]).toEqual([1, 1]);
    arrival.invalidate();
    expect([arrival.now(), arrival.now()]).toEqual([2, 2]);
    // The end of the burst: the action scheduled at the first read of the burst runs.
    burst.flush();
    expect(arrival.now()).toBe(3);
    expect(state.reads).toBe(3);
    burst.flush();
    // Its action leaves the owner once run, and unsubscribing the owner cancels a pending one.
    arrival.now();
    owner.unsubscribe();
    expect(() => burst.flush()).not.toThrow();
  });
});
