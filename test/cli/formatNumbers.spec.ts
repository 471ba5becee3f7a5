import fc from 'fast-check';
import { nestedArrayText, numberText, roundedNumberText } from '../../src/cli/formatNumbers';
import { createOutputFormatter } from '../../src/cli/formatOutput';

// The text fast path must write exactly what JSON.stringify wrote for the rounded numbers (issue 11).
describe('roundedNumberText', () => {
  const reference = (v: number, digits: number) =>
    JSON.stringify(Number.isFinite(v) ? Number(v.toPrecision(digits)) : null);

  it('equals JSON.stringify(Number(v.toPrecision(digits))) for float32 values and every precision', () => {
    fc.assert(
      fc.property(fc.float({ noDefaultInfinity: false }), fc.integer({ min: 1, max: 21 }), (v, digits) => {
        expect(roundedNumberText(v, digits)).toBe(reference(v, digits));
      }),
      { numRuns: 20000 },
    );
  });

  it('and for doubles across magnitudes, signs, zeros and the fixed/exponent borders', () => {
    const edges = [
      0,
      -0,
      1,
      -1,
      0.1,
      1e-6,
      9.99999999e-7,
      1e-7,
      123456789,
      999999999.5,
      1e9,
      1e21,
      5e-324,
      NaN,
      -Infinity,
    ];
    for (const v of edges) for (let d = 1; d <= 17; d++) expect(roundedNumberText(v, d)).toBe(reference(v, d));
    fc.assert(
      fc.property(fc.double(), fc.integer({ min: 1, max: 17 }), (v, digits) => {
        expect(roundedNumberText(v, digits)).toBe(reference(v, digits));
      }),
      { numRuns: 20000 },
    );
  });

  it('numberText writes numbers as JSON.stringify does (null when not finite)', () => {
    for (const v of [0, -0, 1.5, -2, 1e21, 1e-7, NaN, Infinity]) expect(numberText(v)).toBe(JSON.stringify(v));
  });
});

describe('nestedArrayText', () => {
  it('nests row-major values by dims, a scalar for []', () => {
    const values = Float64Array.of(1, 2, 3, 4, 5, 6);
    expect(nestedArrayText(values, [2, 3], numberText)).toBe('[[1,2,3],[4,5,6]]');
    expect(nestedArrayText(values, [3, 2, 1], numberText)).toBe('[[[1],[2]],[[3],[4]],[[5],[6]]]');
    expect(nestedArrayText(values, [6], numberText)).toBe('[1,2,3,4,5,6]');
    expect(nestedArrayText(Float64Array.of(7), [], numberText)).toBe('7');
  });
});

describe('createOutputFormatter: the text path writes the same lines as JSON.stringify', () => {
  const base = {
    format: 'array' as const,
    outputNames: ['y'],
    outputName: undefined,
    topK: 1,
    softmax: false,
    precision: undefined as number | undefined,
    includeModel: false,
  };
  const nest = (values: unknown[], dims: readonly number[]): unknown => {
    if (dims.length === 0) return values[0];
    if (dims.length === 1) return values;
    const step = values.length / dims[0];
    return Array.from({ length: dims[0] }, (_, i) => nest(values.slice(i * step, (i + 1) * step), dims.slice(1)));
  };

  it('float32 and float64 outputs of any dims, ids, models and precisions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
        fc.constantFrom('float32', 'float64', 'int32'),
        fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
        fc.boolean(),
        fc.option(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { nil: undefined }),
        fc.integer({ min: 0 }),
        (dims, dtype, precision, includeModel, id, seed) => {
          const size = dims.reduce((a, b) => a * b, 1);
          const random = (i: number) => Math.sin(seed + i * 12.9898) * 10 ** ((i % 9) - 4);
          const data =
            dtype === 'float32'
              ? Float32Array.from({ length: size }, (_, i) => random(i))
              : dtype === 'float64'
                ? Float64Array.from({ length: size }, (_, i) => random(i))
                : Int32Array.from({ length: size }, (_, i) => Math.round(random(i) * 1000));
          const format = createOutputFormatter({ ...base, precision, includeModel });
          const meta = { line: 7, id, hasId: id !== undefined };
          const digits = precision ?? (dtype === 'float32' ? 9 : undefined);
          const read = (v: number) => (dtype === 'int32' || digits === undefined ? v : Number(v.toPrecision(digits)));
          const expected: Record<string, unknown> = { line: 7 };
          if (meta.hasId) expected.id = id ?? null;
          if (includeModel) expected.model = 'm.onnx';
          expected.output = nest(Array.from(data, read), dims);
          expect(format(meta, { data, dims, type: dtype }, 'm.onnx')).toBe(JSON.stringify(expected));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('one formatter, outputs whose dtype changes from record to record (a --watch model swap)', () => {
    const format = createOutputFormatter({ ...base, includeModel: true });
    const meta = { line: 3, id: 'a', hasId: true };
    const f32 = { data: Float32Array.of(0.1, -2.5), dims: [2], type: 'float32' };
    const i32 = { data: Int32Array.of(7, -8), dims: [2], type: 'int32' };
    const f64 = { data: Float64Array.of(0.1, 1 / 3), dims: [1, 2], type: 'float64' };
    const lines = [f32, i32, f64, f32].map((t) => format(meta, t, 'm'));
    expect(lines).toEqual([
      '{"line":3,"id":"a","model":"m","output":[0.100000001,-2.5]}',
      '{"line":3,"id":"a","model":"m","output":[7,-8]}',
      `{"line":3,"id":"a","model":"m","output":[[0.1,${1 / 3}]]}`,
      '{"line":3,"id":"a","model":"m","output":[0.100000001,-2.5]}',
    ]);
  });
});
