import fc from 'fast-check';
import { BatchQueue } from '../../src/batching/BatchQueue';

type Item = { readonly id: number; readonly key: number; readonly weight: number };
type Op =
  | { readonly kind: 'push'; readonly key: number; readonly weight: number; readonly times: number }
  | { readonly kind: 'take'; readonly maxSize: number; readonly key?: number }
  | { readonly kind: 'clear' };

/** The obvious, slow model: one array in push order. */
class Reference {
  items: Item[] = [];
  constructor(private readonly maxWeight: number) {}
  take(maxSize: number, key: number | undefined, keyed: boolean): Item[] {
    const k = key ?? this.items[0]?.key;
    const candidates = this.items.filter((item) => !keyed || item.key === k);
    const out: Item[] = [];
    let weight = 0;
    for (const item of candidates) {
      if (out.length >= Math.max(1, maxSize)) break;
      if (out.length > 0 && weight + item.weight > this.maxWeight) break;
      out.push(item);
      weight += item.weight;
    }
    this.items = this.items.filter((item) => !out.includes(item));
    return out;
  }
}

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('push' as const),
      key: fc.integer({ min: 0, max: 3 }),
      weight: fc.integer({ min: 0, max: 4 }),
      times: fc.integer({ min: 1, max: 20 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('take' as const), maxSize: fc.integer({ min: 0, max: 12 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('take' as const),
      maxSize: fc.integer({ min: 1, max: 12 }),
      key: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

describe('BatchQueue (model-based)', () => {
  it.each([
    ['keyed and weighted', true, true],
    ['keyed', true, false],
    ['weighted', false, true],
    ['plain', false, false],
  ])('behaves like a plain array model: %s', (_name, keyed, weighted) => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.integer({ min: 1, max: 10 }), (ops, maxWeight) => {
        const queue = new BatchQueue<Item>({
          batchKeyFn: keyed ? (item) => item.key : undefined,
          elementSizeFn: weighted ? (item) => item.weight : undefined,
          maxBatchWeight: maxWeight,
        });
        const reference = new Reference(maxWeight);
        let id = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            for (let i = 0; i < o.times; i++) {
              const item = { id: id++, key: keyed ? o.key : 0, weight: weighted ? o.weight : 1 };
              const state = queue.push(item);
              reference.items.push(item);
              const group = reference.items.filter((x) => x.key === item.key);
              expect(state.count).toBe(group.length);
              expect(state.weight).toBeCloseTo(group.reduce((sum, x) => sum + x.weight, 0));
            }
          } else if (o.kind === 'take') {
            if (o.key === undefined) {
              expect(queue.oldestKey()).toBe(keyed ? reference.items[0]?.key : undefined);
              expect(queue.take(o.maxSize)).toEqual(reference.take(o.maxSize, undefined, keyed));
            } else if (keyed) {
              expect(queue.takeFrom(o.key, o.maxSize)).toEqual(reference.take(o.maxSize, o.key, keyed));
            }
          } else {
            expect(queue.clear()).toEqual(reference.items);
            reference.items = [];
          }
          expect(queue.length).toBe(reference.items.length);
        }
      }),
      { numRuns: 60 },
    );
  });
});
