import fc from 'fast-check';
import { finiteScanModule } from '../../src/tensors/finiteScanModule';
import { firstNonFinite, firstNonFiniteIn, type FloatData } from '../../src/tensors/firstNonFinite';

/** The rule's definition: the first value for which `v - v` is not 0. */
const reference = (values: ArrayLike<number>) => {
  for (let i = 0; i < values.length; i++) if (values[i] - values[i] !== 0) return i;
  return -1;
};

const special = [NaN, Infinity, -Infinity];
// Finite values whose bits come close to the NaN/Infinity pattern: the largest float32/float64, denormals, -0.
const edgy = [3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -0, 0, 1, Number.MAX_VALUE];

const arrays = (wide: boolean) =>
  fc
    .record({
      length: fc.nat({ max: 300 }),
      bad: fc.array(fc.record({ at: fc.nat(), value: fc.constantFrom(...special) }), { maxLength: 3 }),
      fill: fc.constantFrom(...edgy),
    })
    .map(({ length, bad, fill }) => {
      const values = wide ? new Float64Array(length) : new Float32Array(length);
      values.fill(wide ? fill : Math.fround(fill));
      for (const b of bad) if (length > 0) values[b.at % length] = b.value;
      return values;
    });

describe('firstNonFinite', () => {
  it('the WebAssembly module is valid where WebAssembly SIMD is available (it is in every supported Node)', () => {
    expect(WebAssembly.validate(finiteScanModule())).toBe(true);
  });

  it.each([
    ['float32', false],
    ['float64', true],
  ])('finds the first NaN or ±Infinity of %s data at any length and position', (_, wide) => {
    fc.assert(
      fc.property(arrays(wide as boolean), (values) => {
        expect(firstNonFinite(values)).toBe(reference(values));
      }),
      { numRuns: 400 },
    );
  });

  it('names the index in arrays larger than the scratch memory (scanned in chunks)', () => {
    const big = new Float32Array(200_000);
    expect(firstNonFinite(big)).toBe(-1);
    big[199_999] = -Infinity;
    expect(firstNonFinite(big)).toBe(199_999);
    big[70_000] = NaN;
    expect(firstNonFinite(big)).toBe(70_000);
    const wide = new Float64Array(100_000);
    wide[99_998] = Infinity;
    expect(firstNonFinite(wide)).toBe(99_998);
  });

  it('reads plain arrays with the JavaScript loop', () => {
    expect(firstNonFinite([1, 2, NaN])).toBe(2);
    expect(firstNonFinite([1, 2, 3])).toBe(-1);
  });
});

describe('firstNonFiniteIn', () => {
  const columnOf = (wide: boolean) =>
    fc.array(arrays(wide), { minLength: 1, maxLength: 40 }).chain((column) =>
      fc.record({
        column: fc.constant(column as FloatData[]),
        start: fc.nat({ max: column.length - 1 }),
        end: fc.integer({ min: 0, max: column.length }),
      }),
    );

  it.each([
    ['float32', false],
    ['float64', true],
  ])('names the first element, index and value among elements [start, end) of %s data', (_, wide) => {
    fc.assert(
      fc.property(columnOf(wide as boolean), ({ column, start, end }) => {
        let expected: { position: number; index: number } | undefined;
        for (let p = start; p < end && expected === undefined; p++) {
          const index = reference(column[p]);
          if (index >= 0) expected = { position: p, index };
        }
        const found = firstNonFiniteIn(column, start, end);
        if (expected === undefined) expect(found).toBeUndefined();
        else {
          expect(found).toMatchObject(expected);
          expect(Object.is(found!.value, column[expected.position][expected.index])).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('handles elements larger than the scratch memory between small ones', () => {
    const column = [new Float32Array(100), new Float32Array(100_000), new Float32Array(100)];
    expect(firstNonFiniteIn(column, 0, 3)).toBeUndefined();
    column[2][99] = NaN;
    expect(firstNonFiniteIn(column, 0, 3)).toMatchObject({ position: 2, index: 99 });
    column[1][99_999] = Infinity;
    expect(firstNonFiniteIn(column, 0, 3)).toEqual({ position: 1, index: 99_999, value: Infinity });
  });

  it('falls back to the JavaScript loop where WebAssembly cannot be instantiated', () => {
    const original = WebAssembly.Module;
    (WebAssembly as { Module: unknown }).Module = function Module() {
      throw new WebAssembly.CompileError('no SIMD here');
    };
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const fresh = require('../../src/tensors/firstNonFinite') as typeof import('../../src/tensors/firstNonFinite');
        const column = [new Float32Array(200), new Float32Array(200)];
        column[1][150] = -Infinity;
        expect(fresh.firstNonFiniteIn(column, 0, 2)).toEqual({ position: 1, index: 150, value: -Infinity });
        expect(fresh.firstNonFinite(column[1])).toBe(150);
      });
    } finally {
      (WebAssembly as { Module: unknown }).Module = original;
    }
  });
});
