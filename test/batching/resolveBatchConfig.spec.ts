import { asapScheduler, asyncScheduler } from 'rxjs';
import { combineBatchKeys, mergeBatchConfig, resolveBatchConfig } from '../../src/batching/resolveBatchConfig';
import type { BatchElementsConfig, BatchKey } from '../../src/index';

describe('resolveBatchConfig', () => {
  it("applies Beam's defaults", () => {
    const resolved = resolveBatchConfig();
    expect(resolved).toEqual({
      minBatchSize: 1,
      maxBatchSize: 10000,
      targetBatchOverhead: 0.05,
      targetBatchDurationMs: 10000,
      targetBatchDurationIncludingFixedCostMs: undefined,
      variance: 0.25,
      elementSizeFn: undefined,
      maxBatchWeight: Infinity,
      maxBatchDurationMs: undefined,
      batchKeyFn: undefined,
      scheduler: asyncScheduler,
      random: Math.random,
    });
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('keeps what is given and turns null or 0 targets into null (disabled)', () => {
    const sizeFn = (x: string) => x.length;
    const keyFn = (x: string) => x[0];
    const random = () => 0.5;
    const resolved = resolveBatchConfig<string>({
      minBatchSize: 2,
      maxBatchSize: 2,
      targetBatchOverhead: null,
      targetBatchDurationMs: 0,
      targetBatchDurationIncludingFixedCostMs: 50,
      variance: 0,
      elementSizeFn: sizeFn,
      maxBatchWeight: 10,
      maxBatchDurationMs: 0,
      batchKeyFn: keyFn,
      scheduler: asapScheduler,
      random,
    });
    expect(resolved).toMatchObject({
      minBatchSize: 2,
      maxBatchSize: 2,
      targetBatchOverhead: null,
      targetBatchDurationMs: null,
      targetBatchDurationIncludingFixedCostMs: 50,
      variance: 0,
      maxBatchWeight: 10,
      maxBatchDurationMs: 0,
      scheduler: asapScheduler,
    });
    expect(resolved.elementSizeFn).toBe(sizeFn);
    expect(resolved.batchKeyFn).toBe(keyFn);
    expect(resolved.random).toBe(random);
    expect(
      resolveBatchConfig({ targetBatchDurationIncludingFixedCostMs: 0 }).targetBatchDurationIncludingFixedCostMs,
    ).toBe(undefined);
  });

  describe('validation', () => {
    const cases: Array<[string, BatchElementsConfig<any>, string, RegExp]> = [
      ['minBatchSize > maxBatchSize', { minBatchSize: 5, maxBatchSize: 4 }, 'RangeError', /minBatchSize.*maxBatchSize/],
      ['maxBatchSize 0', { maxBatchSize: 0 }, 'RangeError', /`maxBatchSize` to be a positive integer, got `0`/],
      ['non-integer minBatchSize', { minBatchSize: 1.5 }, 'RangeError', /minBatchSize/],
      ['string maxBatchSize', { maxBatchSize: '8' as unknown as number }, 'TypeError', /maxBatchSize/],
      ['infinite maxBatchSize', { maxBatchSize: Infinity }, 'RangeError', /maxBatchSize/],
      [
        'overhead above 1',
        { targetBatchOverhead: 1.5 },
        'RangeError',
        /`targetBatchOverhead` to be a number in \(0, 1\]/,
      ],
      ['negative overhead', { targetBatchOverhead: -0.1 }, 'RangeError', /targetBatchOverhead/],
      ['negative duration', { targetBatchDurationMs: -1 }, 'RangeError', /targetBatchDurationMs/],
      ['NaN duration', { targetBatchDurationMs: NaN }, 'TypeError', /targetBatchDurationMs/],
      [
        'negative duration including fixed cost',
        { targetBatchDurationIncludingFixedCostMs: -1 },
        'RangeError',
        /targetBatchDurationIncludingFixedCostMs/,
      ],
      [
        'every target disabled',
        { targetBatchOverhead: null, targetBatchDurationMs: null },
        'RangeError',
        /targetBatchOverhead.*targetBatchDurationMs.*targetBatchDurationIncludingFixedCostMs/,
      ],
      ['variance above 1', { variance: 2 }, 'RangeError', /`variance` to be a number in \[0, 1\], got `2`/],
      ['negative variance', { variance: -0.5 }, 'RangeError', /variance/],
      ['non-function elementSizeFn', { elementSizeFn: 3 as unknown as () => number }, 'TypeError', /elementSizeFn/],
      ['maxBatchWeight 0', { maxBatchWeight: 0 }, 'RangeError', /maxBatchWeight/],
      ['negative maxBatchDurationMs', { maxBatchDurationMs: -5 }, 'RangeError', /maxBatchDurationMs/],
      ['non-function batchKeyFn', { batchKeyFn: 'shape' as unknown as () => BatchKey }, 'TypeError', /batchKeyFn/],
      ['bad scheduler', { scheduler: {} as never }, 'TypeError', /scheduler/],
      ['non-function random', { random: 0.5 as unknown as () => number }, 'TypeError', /random/],
      ['non-object config', 'fast' as unknown as BatchElementsConfig, 'TypeError', /config/],
    ];
    it.each(cases)('rejects %s', (_title, config, name, message) => {
      expect(() => resolveBatchConfig(config)).toThrow(
        expect.objectContaining({ name, message: expect.stringMatching(message) }),
      );
    });

    it('accepts a disabled overhead when a duration target remains, and vice versa', () => {
      expect(() => resolveBatchConfig({ targetBatchOverhead: null })).not.toThrow();
      expect(() => resolveBatchConfig({ targetBatchDurationMs: null })).not.toThrow();
      expect(() =>
        resolveBatchConfig({
          targetBatchOverhead: 0,
          targetBatchDurationMs: 0,
          targetBatchDurationIncludingFixedCostMs: 5,
        }),
      ).not.toThrow();
    });
  });
});

describe('combineBatchKeys', () => {
  it('is equal exactly when both parts are equal, whatever their types and characters', () => {
    const keys: BatchKey[] = ['1', 1, 1n, true, 'true', null, undefined, 'null', 'undefined', '', 'a\u0000b', 'a', 'b'];
    const seen = new Map<string, [BatchKey, BatchKey]>();
    for (const a of keys) {
      for (const b of keys) {
        const combined = combineBatchKeys(a, b);
        expect(combineBatchKeys(a, b)).toBe(combined);
        expect(seen.get(combined)).toBeUndefined();
        seen.set(combined, [a, b]);
      }
    }
    // A handler key containing the separator cannot be confused with a different split.
    expect(combineBatchKeys('a\u0000sb', 'c')).not.toBe(combineBatchKeys('a', 'b\u0000sc'));
  });
});

describe('mergeBatchConfig', () => {
  it('lets the operator override field by field (null counts, undefined does not)', () => {
    const merged = mergeBatchConfig(
      { minBatchSize: 2, maxBatchSize: 32, targetBatchOverhead: 0.1, variance: 0.5 },
      { maxBatchSize: 8, targetBatchOverhead: null, variance: undefined },
    );
    expect(merged).toEqual({ minBatchSize: 2, maxBatchSize: 8, targetBatchOverhead: null, variance: 0.5 });
    expect(mergeBatchConfig(undefined, { maxBatchSize: 3 })).toEqual({ maxBatchSize: 3 });
    expect(mergeBatchConfig({ maxBatchSize: 3 }, undefined)).toEqual({ maxBatchSize: 3 });
    expect(mergeBatchConfig()).toEqual({});
  });

  it("always applies the handler's batchKeyFn, combining it with the operator's", () => {
    const shape = (x: number[]) => x.length;
    const parity = (x: number[]) => (x[0] % 2 === 0 ? 'even' : 'odd');
    expect(mergeBatchConfig<number[]>({ batchKeyFn: shape }, { maxBatchSize: 4 }).batchKeyFn).toBe(shape);
    expect(mergeBatchConfig<number[]>({ batchKeyFn: shape }, { batchKeyFn: undefined }).batchKeyFn).toBe(shape);
    expect(mergeBatchConfig<number[]>({}, { batchKeyFn: parity }).batchKeyFn).toBe(parity);
    const both = mergeBatchConfig<number[]>({ batchKeyFn: shape }, { batchKeyFn: parity }).batchKeyFn!;
    expect(both([1, 2])).toBe(combineBatchKeys(2, 'odd'));
    expect(both([2, 2])).toBe(combineBatchKeys(2, 'even'));
    expect(both([1, 2])).not.toBe(both([1, 2, 3]));
    expect(both([1, 2])).toBe(both([3, 4]));
  });

  it('rejects configs that are not objects', () => {
    expect(() => mergeBatchConfig(5 as never, {})).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/handlerConfig/) }),
    );
    expect(() => mergeBatchConfig({}, null as never)).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/operatorConfig/) }),
    );
  });
});
