import { BatchQueue } from '../../src/batching/BatchQueue';
import type { PushOrderLog } from '../../src/batching/PushOrderLog';

describe('BatchQueue', () => {
  describe('single group (no batchKeyFn)', () => {
    it('is FIFO, takes up to maxSize, and reports its state', () => {
      const queue = new BatchQueue<string>();
      expect(queue.length).toBe(0);
      expect(queue.take(3)).toEqual([]);
      expect(queue.group(undefined)).toBeUndefined();
      expect(queue.oldestKey()).toBeUndefined();
      expect(queue.push('a')).toMatchObject({ key: undefined, count: 1, weight: 1 });
      queue.push('b');
      expect(queue.push('c')).toMatchObject({ key: undefined, count: 3, weight: 3 });
      expect(queue.length).toBe(3);
      expect(queue.group(undefined)).toMatchObject({ count: 3, weight: 3 });
      expect(queue.group('other')).toBeUndefined();
      expect(queue.peek(undefined)).toBe('a');
      expect(queue.peek('other')).toBeUndefined();
      expect(queue.take(2)).toEqual(['a', 'b']);
      expect(queue.peek(undefined)).toBe('c');
      expect(queue.length).toBe(1);
      queue.push('d');
      expect(queue.take(10)).toEqual(['c', 'd']);
      expect(queue.length).toBe(0);
      expect(queue.group(undefined)).toBeUndefined();
      expect(queue.peek(undefined)).toBeUndefined();
    });

    it('takes at least one item, whatever maxSize says', () => {
      const queue = new BatchQueue<number>();
      queue.push(1);
      queue.push(2);
      expect(queue.take(0)).toEqual([1]);
      expect(queue.take(Number.NaN)).toEqual([2]);
    });

    it('takes by key: undefined names the only group, any other key nothing', () => {
      const queue = new BatchQueue<number>();
      queue.push(1);
      expect(queue.takeFrom('x', 5)).toEqual([]);
      expect(queue.takeFrom(undefined, 5)).toEqual([1]);
    });

    it('caps unweighted batches by maxBatchWeight (each item weighs 1)', () => {
      const queue = new BatchQueue<number>({ maxBatchWeight: 2.5 });
      for (let i = 0; i < 5; i++) queue.push(i);
      expect(queue.take(10)).toEqual([0, 1]);
      expect(queue.take(1)).toEqual([2]);
      expect(queue.take(10)).toEqual([3, 4]);
      const tiny = new BatchQueue<number>({ maxBatchWeight: 0.5 });
      tiny.push(1);
      tiny.push(2);
      expect(tiny.take(10)).toEqual([1]);
    });

    it('clears in push order', () => {
      const queue = new BatchQueue<number>();
      for (let i = 0; i < 5; i++) queue.push(i);
      queue.take(2);
      expect(queue.clear()).toEqual([2, 3, 4]);
      expect(queue.length).toBe(0);
      expect(queue.clear()).toEqual([]);
      queue.push(9);
      expect(queue.take(5)).toEqual([9]);
    });

    it('handles 1e6 pushes and takes in order, in linear time', () => {
      const queue = new BatchQueue<number>();
      const n = 1_000_000;
      const start = performance.now();
      for (let i = 0; i < n; i++) queue.push(i);
      expect(queue.length).toBe(n);
      let expected = 0;
      let ok = true;
      while (queue.length > 0) {
        const batch = queue.take(1000);
        for (const x of batch) ok &&= x === expected++;
        // Interleave pushes and takes, as a live stream does, to exercise compaction.
        if (expected === 500_000) for (let i = 0; i < 10; i++) queue.push(n + i);
      }
      const elapsed = performance.now() - start;
      expect(ok).toBe(true);
      expect(expected).toBe(n + 10);
      expect(elapsed).toBeLessThan(10_000); // quadratic behaviour would take minutes
    });

    it('compacts while draining batch by batch, keeping order', () => {
      const queue = new BatchQueue<number>();
      let next = 0;
      let expected = 0;
      let ok = true;
      for (let round = 0; round < 200; round++) {
        for (let i = 0; i < 100; i++) queue.push(next++);
        for (const x of queue.take(90)) ok &&= x === expected++;
      }
      expect(queue.length).toBe(200 * 10);
      for (const x of queue.clear()) ok &&= x === expected++;
      expect(ok).toBe(true);
      expect(expected).toBe(next);
    });
  });

  describe('weights (elementSizeFn + maxBatchWeight)', () => {
    it('sums weights, computing each once, and takes batches of at most maxBatchWeight', () => {
      const sizeFn = jest.fn((s: string) => s.length);
      const queue = new BatchQueue<string>({ elementSizeFn: sizeFn, maxBatchWeight: 6 });
      expect(queue.push('aaa').weight).toBe(3);
      expect(queue.push('bb').weight).toBe(5);
      expect(queue.push('cccc').weight).toBe(9);
      queue.push('d');
      expect(sizeFn).toHaveBeenCalledTimes(4);
      expect(queue.take(10)).toEqual(['aaa', 'bb']); // 5; adding 'cccc' would make 9 > 6
      expect(queue.group(undefined)).toMatchObject({ count: 2, weight: 5 });
      expect(queue.take(1)).toEqual(['cccc']); // maxSize binds first
      expect(queue.take(10)).toEqual(['d']);
      expect(sizeFn).toHaveBeenCalledTimes(4);
    });

    it('lets a single item heavier than maxBatchWeight out alone', () => {
      const queue = new BatchQueue<number>({ elementSizeFn: (x) => x, maxBatchWeight: 10 });
      queue.push(50);
      queue.push(1);
      queue.push(2);
      expect(queue.take(10)).toEqual([50]);
      expect(queue.take(10)).toEqual([1, 2]);
    });

    it('accepts zero weights and fills up to the bound exactly', () => {
      const queue = new BatchQueue<number>({ elementSizeFn: (x) => x, maxBatchWeight: 3 });
      [0, 1, 2, 0, 1].forEach((x) => queue.push(x));
      expect(queue.take(10)).toEqual([0, 1, 2, 0]);
      expect(queue.take(10)).toEqual([1]);
      expect(queue.group(undefined)).toBeUndefined();
    });

    it.each([
      [-1, '`-1` (number)'],
      [Number.NaN, '`NaN` (number)'],
      [Infinity, '`Infinity` (number)'],
      ['3', '`3` (string)'],
    ])('rejects a weight of %p with a TypeError naming elementSizeFn and the element', (weight, shown) => {
      const queue = new BatchQueue<{ id: number }>({ elementSizeFn: () => weight as number });
      let error: unknown;
      try {
        queue.push({ id: 7 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('`elementSizeFn`');
      expect((error as Error).message).toContain(shown);
      expect((error as Error).message).toContain('{"id":7}');
      expect(queue.length).toBe(0); // nothing queued
    });

    it('tracks weights in keyed groups too, and clears them', () => {
      const queue = new BatchQueue<string>({ batchKeyFn: (s) => s[0], elementSizeFn: (s) => s.length });
      queue.push('aa');
      expect(queue.push('bbb')).toMatchObject({ key: 'b', count: 1, weight: 3 });
      expect(queue.push('aaaa')).toMatchObject({ key: 'a', count: 2, weight: 6 });
      expect(queue.takeFrom('a', 1)).toEqual(['aa']);
      expect(queue.group('a')).toMatchObject({ count: 1, weight: 4 });
      expect(queue.clear()).toEqual(['bbb', 'aaaa']);
    });
  });

  describe('keys (batchKeyFn)', () => {
    it('never mixes keys in a batch and computes each key once', () => {
      const keyFn = jest.fn((x: number) => x % 3);
      const queue = new BatchQueue<number>({ batchKeyFn: keyFn });
      for (let i = 0; i < 12; i++) queue.push(i);
      expect(keyFn).toHaveBeenCalledTimes(12);
      expect(queue.group(1)).toMatchObject({ key: 1, count: 4, weight: 4 });
      expect(queue.takeFrom(1, 10)).toEqual([1, 4, 7, 10]);
      expect(queue.takeFrom(1, 10)).toEqual([]);
      expect(queue.group(1)).toBeUndefined();
      expect(queue.take(2)).toEqual([0, 3]);
      expect(queue.take(10)).toEqual([2, 5, 8, 11]);
      expect(queue.take(10)).toEqual([6, 9]);
      expect(queue.take(10)).toEqual([]);
      expect(keyFn).toHaveBeenCalledTimes(12);
    });

    it('takes from the group whose head is oldest', () => {
      const queue = new BatchQueue<string>({ batchKeyFn: (s) => s[0] });
      ['a1', 'b1', 'a2', 'c1', 'b2'].forEach((s) => queue.push(s));
      expect(queue.oldestKey()).toBe('a');
      expect(queue.peek('b')).toBe('b1');
      expect(queue.peek('z')).toBeUndefined();
      expect(queue.take(1)).toEqual(['a1']);
      expect(queue.peek('a')).toBe('a2');
      expect(queue.oldestKey()).toBe('b'); // b1 is now older than a2
      expect(queue.takeFrom('c', 5)).toEqual(['c1']);
      expect(queue.take(5)).toEqual(['b1', 'b2']);
      expect(queue.oldestKey()).toBe('a');
      queue.push('b3');
      expect(queue.take(5)).toEqual(['a2']);
      expect(queue.oldestKey()).toBe('b');
      expect(queue.take(5)).toEqual(['b3']);
      expect(queue.oldestKey()).toBeUndefined();
      expect(queue.length).toBe(0);
    });

    it('distinguishes key values and types, including undefined, null and bigint keys', () => {
      const keys = [undefined, null, 0, '0', 0n, false, 1n];
      const queue = new BatchQueue<number>({ batchKeyFn: (i) => keys[i % keys.length] });
      for (let i = 0; i < keys.length * 2; i++) queue.push(i);
      expect(queue.takeFrom(undefined, 5)).toEqual([0, 7]);
      expect(queue.takeFrom(null, 5)).toEqual([1, 8]);
      expect(queue.takeFrom(0n, 5)).toEqual([4, 11]);
      expect(queue.take(5)).toEqual([2, 9]);
      expect(queue.oldestKey()).toBe('0');
      expect(queue.group(1n)).toMatchObject({ count: 2 });
    });

    it('clears everything in push order across groups', () => {
      const queue = new BatchQueue<number>({ batchKeyFn: (x) => x % 4 });
      for (let i = 0; i < 20; i++) queue.push(i);
      queue.takeFrom(3, 2); // 3, 7
      queue.take(1); // 0
      const state = queue.group(2)!;
      expect(queue.clear()).toEqual([1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
      expect(queue.length).toBe(0);
      expect(state.count).toBe(0);
      expect(queue.group(2)).toBeUndefined();
      expect(queue.oldestKey()).toBeUndefined();
      queue.push(21);
      expect(queue.take(5)).toEqual([21]);
    });

    it('reuses a drained group (and its arrays) for the next new key, with no state carried over', () => {
      const queue = new BatchQueue<string>({ batchKeyFn: (s) => s[0], elementSizeFn: (s) => s.length, tagged: true });
      queue.push('aa', 1, 10);
      const a = queue.push('aaa', 2, 20);
      expect(queue.takeTagged('a', 5)).toEqual({ items: ['aa', 'aaa'], tags: [1, 2], times: [10, 20] });
      expect(queue.group('a')).toBeUndefined();
      // The next burst, of another shape: the drained group's object and slots serve it.
      const b = queue.push('b', 3, 30);
      expect(b).toBe(a);
      expect(b).toMatchObject({ key: 'b', count: 1, weight: 1 });
      expect(queue.group('a')).toBeUndefined();
      queue.push('bbbb', 4, 40);
      queue.push('aaaaa', 5, 50); // 'a' is new again: a group of its own
      expect(queue.group('b')).toMatchObject({ count: 2, weight: 5 });
      expect(queue.group('a')).toMatchObject({ key: 'a', count: 1, weight: 5 });
      expect(queue.oldestKey()).toBe('b');
      expect(queue.takeTagged('b', 5)).toEqual({ items: ['b', 'bbbb'], tags: [3, 4], times: [30, 40] });
      expect(queue.takeTagged('a', 5)).toEqual({ items: ['aaaaa'], tags: [5], times: [50] });
      expect(queue.length).toBe(0);
    });

    it('keeps its push-order log bounded when a stuck old group sits behind heavy traffic', () => {
      const queue = new BatchQueue<number>({ batchKeyFn: (x) => (x < 0 ? 'stuck' : 'busy') });
      queue.push(-1);
      let taken = 0;
      for (let i = 0; i < 100_000; i++) {
        queue.push(i);
        if (i % 10 === 9) taken += queue.takeFrom('busy', 10).length;
      }
      expect(taken).toBe(100_000);
      expect(queue.oldestKey()).toBe('stuck');
      const log = (queue as unknown as { order: PushOrderLog }).order;
      expect(log.runs).toBeLessThan(5000);
      expect(queue.take(5)).toEqual([-1]);
      expect(queue.length).toBe(0);
    });

    it('handles 1e6 keyed pushes in linear time, oldest group first', () => {
      const queue = new BatchQueue<number>({ batchKeyFn: (x) => x % 8 });
      const n = 1_000_000;
      const start = performance.now();
      for (let i = 0; i < n; i++) queue.push(i);
      let taken = 0;
      let ordered = true;
      let previousHead = -1;
      while (queue.length > 0) {
        const batch = queue.take(500);
        ordered &&= batch[0] > previousHead && batch.every((x) => x % 8 === batch[0] % 8);
        previousHead = batch[0];
        taken += batch.length;
      }
      expect(performance.now() - start).toBeLessThan(10_000);
      expect(taken).toBe(n);
      expect(ordered).toBe(true);
    });
  });
});
