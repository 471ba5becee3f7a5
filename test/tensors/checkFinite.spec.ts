import { InvalidExampleError } from 'rxjs-inference';
import { checkFinite, checkStackedFinite } from '../../src/tensors/checkFinite';
import { packRun } from '../../src/tensors/packRun';
import { readBatch } from '../../src/tensors/readBatch';
import { firstNonFiniteInPlace } from '../../src/tensors/scannableFloats';
import { TensorBufferPool } from '../../src/tensors/TensorBufferPool';
import type { TensorInputSpec } from '../../src/tensors/TensorInputSpec';

const inputs: TensorInputSpec[] = [
  { name: 'x', type: 'float32', shape: ['batch', 100] },
  { name: 'i', type: 'int32', shape: ['batch', 2] },
];
const batchOf = (n: number, edit?: (x: Float32Array[]) => void) => {
  const xs = Array.from({ length: n }, () => new Float32Array(100).fill(0.5));
  edit?.(xs);
  return readBatch(
    xs.map((x) => ({ x, i: Int32Array.of(1, 2) })),
    inputs,
  );
};

describe('checkFinite (the NaN/Infinity rule over a batch)', () => {
  it('passes a batch of finite floats', () => {
    expect(() => checkFinite(batchOf(40), inputs)).not.toThrow();
  });

  it('names the first element holding NaN or ±Infinity, the input and the index, in the one message form', () => {
    const batch = batchOf(40, (xs) => {
      xs[33][7] = NaN;
      xs[21][99] = Infinity;
    });
    let error: unknown;
    try {
      checkFinite(batch, inputs);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidExampleError);
    expect(error).toMatchObject({
      position: 21,
      field: 'x',
      message:
        'Element 21 of the batch, input `x`: expected a finite number, got `Infinity` at index 99 (set `allowNonFinite: true` to accept NaN and Infinity).',
    });
  });
});

describe('checkStackedFinite (the same rule over a batch already stacked)', () => {
  const errorOf = (fn: () => void): unknown => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const twoFloats: TensorInputSpec[] = [
    { name: 'a', type: 'float64', shape: ['batch', 3] },
    { name: 'x', type: 'float32', shape: ['batch', 100] },
  ];
  const elements = (n: number, bad: (p: number) => [number, number, number] | undefined) =>
    Array.from({ length: n }, (_, p) => {
      const a = Float64Array.of(1, 2, 3);
      const x = new Float32Array(100).fill(0.25);
      const hit = bad(p);
      if (hit !== undefined) (hit[0] === 0 ? a : x)[hit[1]] = hit[2];
      return { a, x };
    });

  it.each([
    ['no bad value', () => undefined],
    ['NaN in the last value of the last element', (p: number) => (p === 29 ? [1, 99, NaN] : undefined)],
    ['-Infinity in element 0', (p: number) => (p === 0 ? [1, 0, -Infinity] : undefined)],
    [
      'bad values in both inputs (the first input is named)',
      (p: number) => (p === 5 ? [1, 3, NaN] : p === 17 ? [0, 2, Infinity] : undefined),
    ],
    ['several elements of one input (the first is named)', (p: number) => (p % 7 === 3 ? [1, p, NaN] : undefined)],
  ] as const)('gives what checkFinite gives, in place or not: %s', (_, bad) => {
    const batch = readBatch(elements(30, bad as (p: number) => [number, number, number] | undefined), twoFloats);
    const expected = errorOf(() => checkFinite(batch, twoFloats));
    const pool = new TensorBufferPool();
    const inPlace = packRun(batch, twoFloats, 0, 30, 30, pool); // WebAssembly memory: scanned where it lies
    const plain = packRun(batch, twoFloats, 0, 30, 32); // ordinary arrays (and two padding rows): element by element
    for (const feeds of [inPlace, plain]) {
      const actual = errorOf(() => checkStackedFinite(batch, twoFloats, feeds));
      if (expected === undefined) expect(actual).toBeUndefined();
      else expect(actual).toMatchObject({ ...(expected as object), message: (expected as Error).message });
    }
    expect(firstNonFiniteInPlace(inPlace.x.data as Float32Array)).toBeDefined();
  });
});
