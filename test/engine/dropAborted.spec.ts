import { BatchQueue } from '../../src/batching/BatchQueue';
import { dropAborted, type Dropped, takeUnaborted } from '../../src/engine/dropAborted';

describe('dropAborted', () => {
  const aborted = (reason: unknown) => AbortSignal.abort(reason);
  const batchOf = (items: string[]) => ({ items, tags: items.map((_, i) => 10 + i), times: items.map(() => 5) });

  it('returns the same batch when nothing was aborted', () => {
    const batch = batchOf(['a', 'b']);
    const dropped: Dropped[] = [];
    expect(
      dropAborted(
        batch,
        () => undefined,
        (i) => batch.items[i],
        dropped,
      ),
    ).toBe(batch);
    expect(dropped).toEqual([]);
  });

  it('takes aborted elements out with their reason, and a throwing signalOf as the reason', () => {
    const batch = batchOf(['a', 'b', 'c', 'd']);
    const dropped: Dropped[] = [];
    const kept = dropAborted(
      batch,
      (element, index) => {
        if (element === 'b') return aborted(new Error('b cancelled'));
        if (index === 13) throw new Error('no signal for d');
        return new AbortController().signal;
      },
      (i) => batch.items[i],
      dropped,
    );
    expect(kept).toEqual({ items: ['a', 'c'], tags: [10, 12], times: [5, 5] });
    expect(dropped.map((d) => [d.seq, d.entry.record.element, d.entry.record.error.message])).toEqual([
      [11, 'b', 'b cancelled'],
      [13, 'd', 'no signal for d'],
    ]);
  });

  it('takeUnaborted: a wholly aborted batch is skipped for the next one; inputs of taken elements are dropped', () => {
    const queue = new BatchQueue<unknown>({ tagged: true });
    ['x0', 'x1', 'y2', 'y3', 'y4'].forEach((v, seq) => queue.push(v.toUpperCase(), seq, 0));
    const inputs = new Map<number, unknown>(['x0', 'x1', 'y2', 'y3', 'y4'].map((v, seq) => [seq, v]));
    const dropped: Dropped[] = [];
    const signalOf = (input: unknown) => (String(input).startsWith('x') ? aborted('gone') : undefined);
    const batch = takeUnaborted(queue, undefined, [2, 2], signalOf, inputs, dropped);
    expect(batch?.items).toEqual(['Y2', 'Y3']);
    expect(dropped.map((d) => d.seq)).toEqual([0, 1]);
    expect([...inputs.keys()]).toEqual([4]);
    expect(takeUnaborted(queue, undefined, [2, 2], () => aborted('all'), inputs, dropped)).toBeUndefined();
    expect(queue.length).toBe(0);
  });
});
