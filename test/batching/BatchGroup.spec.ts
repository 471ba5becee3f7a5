import { BatchGroup, KEEP_SLOTS } from '../../src/batching/BatchGroup';

describe('BatchGroup', () => {
  it('refills the same slots after draining, and keeps no reference to a taken item', () => {
    const group = new BatchGroup<object>(undefined, false, false, true);
    const items = Array.from({ length: 10 }, (_, i) => ({ i }));
    items.forEach((item, i) => group.append(item, 1, 0, i, 100 + i));
    const slots = group.items;
    group.advance(4, 0);
    expect(group.items.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(group.items[group.head]).toBe(items[4]);
    expect(group.times![group.head]).toBe(104);
    group.advance(6, 0);
    expect(group.count).toBe(0);
    expect(group.items.every((x) => x === undefined)).toBe(true);
    group.append(items[0], 1, 0, 42, 7);
    expect(group.items).toBe(slots);
    expect([group.head, group.count, group.items[0], group.tags![0], group.times![0]]).toEqual([0, 1, items[0], 42, 7]);
  });

  it('out of slots, moves the live items to the front instead of growing, once half its slots are taken', () => {
    const group = new BatchGroup<number>('k', true, true, false);
    for (let i = 0; i < 3000; i++) group.append(i, 2, i, 0, 0);
    group.advance(2000, 4000);
    expect([group.head, group.count, group.weight, group.items.length]).toEqual([2000, 1000, 2000, 3000]);
    group.append(3000, 2, 3000, 0, 0);
    expect([group.head, group.count, group.weight, group.items.length]).toEqual([0, 1001, 2002, 1001]);
    expect([group.items[0], group.seqs![0], group.weights![0], group.items[1000]]).toEqual([2000, 2000, 2, 3000]);
  });

  it(`releases arrays over ${KEEP_SLOTS} slots once drained`, () => {
    const group = new BatchGroup<number>(undefined, false, false, true);
    for (let i = 0; i <= KEEP_SLOTS; i++) group.append(i, 1, 0, i, 0);
    group.advance(KEEP_SLOTS + 1, 0);
    expect([group.items.length, group.tags!.length, group.times!.length]).toEqual([0, 0, 0]);
  });
});
