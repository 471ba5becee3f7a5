import { ArrivalClock, arrivalMode, RUN_LENGTH } from '../../src/engine/ArrivalClock';

describe('ArrivalClock', () => {
  /** A clock that counts its reads and moves by 1 per read, so a reused stamp is visible. */
  const counting = () => {
    const state = { reads: 0 };
    return { state, clock: () => ++state.reads };
  };

  it("'exact' reads the clock for every arrival", () => {
    const { state, clock } = counting();
    const arrival = new ArrivalClock(clock, 'exact');
    expect([arrival.now(), arrival.now(), arrival.now()]).toEqual([1, 2, 3]);
    expect(state.reads).toBe(3);
  });

  it("'off' never reads the clock", () => {
    const { state, clock } = counting();
    const arrival = new ArrivalClock(clock, 'off');
    for (let i = 0; i < 100; i++) arrival.now();
    expect(state.reads).toBe(0);
  });

  it(`'run' stamps at most ${RUN_LENGTH} arrivals with one read`, () => {
    const { state, clock } = counting();
    const arrival = new ArrivalClock(clock, 'run');
    const stamps = Array.from({ length: 2 * RUN_LENGTH + 1 }, () => arrival.now());
    expect(state.reads).toBe(3);
    expect(stamps.slice(0, RUN_LENGTH).every((t) => t === 1)).toBe(true);
    expect(stamps.slice(RUN_LENGTH, 2 * RUN_LENGTH).every((t) => t === 2)).toBe(true);
    expect(stamps[2 * RUN_LENGTH]).toBe(3);
  });

  it("'run' reads again after engine work or the end of a burst (invalidate)", () => {
    const { state, clock } = counting();
    const arrival = new ArrivalClock(clock, 'run');
    expect(arrival.inRuns).toBe(true);
    expect([arrival.now(), arrival.now()]).toEqual([1, 1]);
    arrival.invalidate();
    expect([arrival.now(), arrival.now()]).toEqual([2, 2]);
    expect(state.reads).toBe(2);
  });

  it('arrivalMode: exact with a time bound or a scheduler clock, off when nothing reads arrival times', () => {
    const needs = { timeBound: false, metrics: true, stream: false, schedulerClock: false };
    expect(arrivalMode(needs)).toBe('run');
    expect(arrivalMode({ ...needs, timeBound: true })).toBe('exact');
    expect(arrivalMode({ ...needs, timeBound: true, metrics: false })).toBe('exact');
    expect(arrivalMode({ ...needs, schedulerClock: true })).toBe('exact');
    expect(arrivalMode({ ...needs, metrics: false })).toBe('off');
    expect(arrivalMode({ ...needs, metrics: false, stream: true })).toBe('run');
    expect(new ArrivalClock(() => 0, 'exact').inRuns).toBe(false);
  });
});
