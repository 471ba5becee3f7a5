import type { BatchKey } from '../../src/index';
import { PushOrderLog } from '../../src/batching/PushOrderLog';

describe('PushOrderLog', () => {
  /** Groups as head push numbers: a group is live for a run when its head was pushed before the run's end. */
  const setup = () => {
    const heads = new Map<BatchKey, number>();
    const log = new PushOrderLog((key, end) => heads.has(key) && heads.get(key)! < end);
    return { heads, log };
  };

  it('encodes consecutive pushes of one key as one run', () => {
    const { log } = setup();
    for (let seq = 0; seq < 100; seq++) log.record('a', seq);
    log.record('b', 100);
    log.record('a', 101);
    expect(log.runs).toBe(3);
    const runs: [BatchKey, number][] = [];
    log.forEachRun((key, end) => runs.push([key, end]));
    expect(runs).toEqual([
      ['a', 100],
      ['b', 101],
      ['a', 102],
    ]);
  });

  it('names the group whose head is the oldest, skipping consumed runs', () => {
    const { heads, log } = setup();
    log.record('a', 0);
    log.record('a', 1);
    log.record('b', 2);
    log.record('a', 3);
    heads.set('a', 0).set('b', 2);
    expect(log.oldest(4)).toBe('a');
    heads.set('a', 3); // a's first two items were taken: b's head is now the oldest
    expect(log.oldest(2)).toBe('b');
    heads.delete('b');
    expect(log.oldest(1)).toBe('a');
  });

  it('compacts: consumed runs behind a live old one are filtered out', () => {
    const { heads, log } = setup();
    log.record('stuck', 0);
    heads.set('stuck', 0);
    for (let seq = 1; seq < 10_000; seq++) log.record(seq % 2 === 0 ? 'x' : 'y', seq);
    // x and y were taken entirely: only the stuck run is live.
    log.compact(1);
    expect(log.runs).toBe(1);
    expect(log.oldest(1)).toBe('stuck');
    log.reset();
    expect(log.runs).toBe(0);
  });
});
