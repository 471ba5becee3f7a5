import { InvalidExampleError } from '../../src/index';
import { createInputMapping, type InputMapping, parseDims, readField, readInputs } from '../../src/cli/inputMapping';
import { jsonToTensor, resolveReshape, type InputSignature } from '../../src/cli/jsonTensor';
import { createRecordParser } from '../../src/cli/recordParser';
import { UsageError } from '../../src/cli/UsageError';

const vector8: InputSignature = { name: 'input', dtype: 'float32', dims: [8] };
const image: InputSignature = { name: 'image', dtype: 'float32', dims: [2, 2, 1] };
const free: InputSignature = { name: 'seq', dtype: 'float32', dims: [null, 2] };

describe('jsonToTensor', () => {
  it('reads a flat array into a Float32Array with the declared dims', () => {
    const t = jsonToTensor([1, 2, 3, 4, 5, 6, 7, 8], vector8);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(t.dims).toEqual([8]);
  });

  it('reshapes a flat array to a fully declared shape, and keeps nested arrays that match it', () => {
    expect(jsonToTensor([1, 2, 3, 4], image).dims).toEqual([2, 2, 1]);
    expect(
      jsonToTensor(
        [
          [[1], [2]],
          [[3], [4]],
        ],
        image,
      ).dims,
    ).toEqual([2, 2, 1]);
  });

  it('takes the nesting for free dims and checks the fixed ones', () => {
    expect(
      jsonToTensor(
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        free,
      ).dims,
    ).toEqual([3, 2]);
    expect(() => jsonToTensor([[1, 2, 3]], free)).toThrow(
      /wrong shape: the model expects \[\?, 2\] per record, got \[1, 3\]/,
    );
  });

  it('rejects a wrong number of values, naming the input and both shapes', () => {
    expect(() => jsonToTensor([1, 2, 3], vector8)).toThrow(InvalidExampleError);
    expect(() => jsonToTensor([1, 2, 3], vector8)).toThrow(
      'input `input`: wrong shape: the model expects [8] per record, got [3] (3 values).',
    );
    expect(() => jsonToTensor([], vector8)).toThrow(/got \[0\]/);
  });

  it('rejects ragged arrays and non-numeric values with their position', () => {
    expect(() => jsonToTensor([[1, 2], [3]], free)).toThrow(/ragged array: expected 2 values at depth 1/);
    expect(() => jsonToTensor([1, 2, 'x', 4, 5, 6, 7, 8], vector8)).toThrow(
      'value[2] is "x", expected a finite number',
    );
    // Beyond float32's range a JSON number would become Infinity (and the model's output null): rejected, named.
    expect(() => jsonToTensor([1, 2, 3, 4, 5, 6, 7, -1e39], vector8)).toThrow(
      /value\[7\] is -1e\+39, expected a finite number within the float32 range/,
    );
    expect(() =>
      jsonToTensor(
        [
          [1, 2, 3, 4],
          [5, 6, 7, 1e39],
        ],
        vector8,
      ),
    ).toThrow(/value\[1\]\[3\] is 1e\+39/);
    expect(() =>
      jsonToTensor(
        [
          [1, 2],
          [3, null],
        ],
        free,
      ),
    ).toThrow('value[1][1] is null');
    expect(() => jsonToTensor({ a: 1 }, vector8)).toThrow(/value is \{"a":1\}/);
    expect(() => jsonToTensor(JSON.parse('[1e999]'), { name: 'x', dtype: 'float32', dims: [1] })).toThrow(
      /Infinity|null/,
    );
  });

  it('converts integer, int64, bool and string inputs, rejecting values out of range', () => {
    const int32 = jsonToTensor([1, -2], { name: 'i', dtype: 'int32', dims: [2] });
    expect(int32.data).toBeInstanceOf(Int32Array);
    expect(() => jsonToTensor([1.5, 2], { name: 'i', dtype: 'int32', dims: [2] })).toThrow(/int32 range/);
    expect(() => jsonToTensor([300], { name: 'u', dtype: 'uint8', dims: [1] })).toThrow(/uint8 range/);
    const int64 = jsonToTensor([3, '9007199254740993'], { name: 'l', dtype: 'int64', dims: [2] });
    expect(Array.from(int64.data as BigInt64Array)).toEqual([3n, 9007199254740993n]);
    expect(() => jsonToTensor(['1e3'], { name: 'l', dtype: 'int64', dims: [1] })).toThrow(/int64 range/);
    const bool = jsonToTensor([true, 0, 1, false], { name: 'b', dtype: 'bool', dims: [4] });
    expect(Array.from(bool.data as Uint8Array)).toEqual([1, 0, 1, 0]);
    expect(() => jsonToTensor([2], { name: 'b', dtype: 'bool', dims: [1] })).toThrow(/true, false, 0 or 1/);
    expect(jsonToTensor(['a', 'b'], { name: 's', dtype: 'string', dims: [2] }).data).toEqual(['a', 'b']);
    expect(jsonToTensor(5, { name: 'x', dtype: 'float64', dims: [] }).dims).toEqual([]);
  });

  it('applies --shape, inferring one -1 dim', () => {
    expect(jsonToTensor([1, 2, 3, 4], { name: 'x', dtype: 'float32', dims: undefined }, [2, -1]).dims).toEqual([2, 2]);
    expect(() => resolveReshape([3, -1], 4, 'x')).toThrow(/4 values cannot be reshaped to \[3, -1\]/);
    expect(() => resolveReshape([3, 3], 8, 'x')).toThrow('--shape [3, 3] needs 9 values, got 8');
    expect(() => jsonToTensor([1, 2, 3, 4], image, [4, 1, 1])).toThrow(/wrong shape/);
  });
});

describe('createInputMapping', () => {
  const two: InputSignature[] = [
    { name: 'a', dtype: 'float32', dims: [4] },
    { name: 'b', dtype: 'float32', dims: [2] },
  ];

  it('parses --input-field and --shape for one input, with or without its name', () => {
    const m = createInputMapping([free], ['x.y'], ['seq=3,2']);
    expect(m.inputs[0]).toEqual({ signature: free, field: 'x.y', reshape: [3, 2] });
    expect(createInputMapping([vector8], [], ['8']).inputs[0].reshape).toEqual([8]);
  });

  it('requires names for several inputs and rejects unknown or repeated ones', () => {
    expect(() => createInputMapping(two, ['x'], [])).toThrow(UsageError);
    expect(() => createInputMapping(two, ['x'], [])).toThrow(/the model has 2 inputs \(`a`, `b`\)/);
    expect(() => createInputMapping(two, ['c=x'], [])).toThrow(/has no input `c`/);
    expect(() => createInputMapping(two, ['a=x', 'a=y'], [])).toThrow(/twice for input `a`/);
    expect(() => createInputMapping(two, ['a='], [])).toThrow(/empty/);
    expect(createInputMapping(two, ['a=left', 'b=right'], []).inputs.map((i) => i.field)).toEqual(['left', 'right']);
  });

  it('rejects a --shape that can never fit the model (another rank, a fixed dim that differs) as a usage error', () => {
    expect(() => createInputMapping([vector8], [], ['2,4'])).toThrow(UsageError);
    expect(() => createInputMapping([vector8], [], ['2,4'])).toThrow(
      "--shape `2,4`: the model's input `input` takes [8] per record; [2, 4] can never fit.",
    );
    expect(() => createInputMapping([vector8], [], ['7'])).toThrow(/takes \[8\] per record; \[7\] can never fit/);
    expect(createInputMapping([vector8], [], ['-1']).inputs[0].reshape).toEqual([-1]);
    const column: InputSignature = { name: 'img', dtype: 'float32', dims: [null, 28, 1] };
    expect(createInputMapping([column], [], ['5,28,1']).inputs[0].reshape).toEqual([5, 28, 1]);
    expect(() => createInputMapping([column], [], ['5,27,1'])).toThrow(/takes \[\?, 28, 1\] per record/);
  });

  it('rejects malformed --shape values', () => {
    for (const bad of ['', 'a,b', '2,0', '-1,-1', '2.5']) expect(() => parseDims(bad, '--shape')).toThrow(UsageError);
    expect(parseDims('28, 28, -1', '--shape')).toEqual([28, 28, -1]);
  });
});

describe('readInputs (the default rule and fields)', () => {
  const single = createInputMapping([vector8], [], []);
  const values = [1, 2, 3, 4, 5, 6, 7, 8];

  it('uses the whole line when it is an array, else `input`, else `features`, else the input name', () => {
    for (const record of [values, { input: values }, { features: values, other: 1 }, { input: values, features: [] }]) {
      expect(Array.from(readInputs(record, single).get('input')!.data as Float32Array)).toEqual(values);
    }
    expect(() => readInputs({ pixels: values }, single)).toThrow(
      /expected an array, or an object with an `input` or `features` field/,
    );
    expect(() => readInputs(42, single)).toThrow(/\(a number\)/);
  });

  it('reads nested field paths, array indexes and `.`', () => {
    expect(readField({ a: { b: [10, 20] } }, 'a.b.1')).toBe(20);
    expect(readField({ a: 1 }, '.')).toEqual({ a: 1 });
    expect(readField({ a: 1 }, 'a.b')).toBeUndefined();
    const nested = createInputMapping([vector8], ['data.x'], []);
    expect(readInputs({ data: { x: values } }, nested).get('input')!.dims).toEqual([8]);
    expect(() => readInputs({ data: {} }, nested)).toThrow(
      'input `input`: the record has no field `data.x` (--input-field).',
    );
  });

  it('reads each input of a multi-input model from its own field', () => {
    const two = createInputMapping(
      [
        { name: 'a', dtype: 'float32', dims: [4] },
        { name: 'b', dtype: 'float32', dims: [2] },
      ],
      ['b=second'],
      [],
    );
    const tensors = readInputs({ a: [1, 2, 3, 4], second: [5, 6] }, two);
    expect([...tensors.keys()]).toEqual(['a', 'b']);
    expect(() => readInputs({ second: [5, 6] }, two)).toThrow(/no field `a` \(or map it: --input-field a=<field>\)/);
    expect(() => readInputs([1, 2], two)).toThrow(/must be an object with a field per input; got an array/);
  });
});

describe('createRecordParser', () => {
  const mapping = createInputMapping([vector8], [], []);

  it('builds an ONNX TensorLike and a TF.js tensor, and remembers the line of each example', () => {
    const onnx = createRecordParser({ mapping, runtime: 'onnx', maxLineLength: 1000, idField: 'key' });
    const record = { line: 7, text: JSON.stringify({ key: 'k7', input: [1, 2, 3, 4, 5, 6, 7, 8] }) };
    const example = onnx.parse(record) as { data: Float32Array; dims: number[]; type: string };
    expect(example.dims).toEqual([8]);
    expect(example.type).toBe('float32');
    expect(onnx.recordOf(example)).toBe(record);
    expect(onnx.recordOf({})).toBeUndefined();
    expect(onnx.recordOf(3)).toBeUndefined();
    expect((record as { id?: unknown }).id).toBe('k7');
    const tfjs = createRecordParser({ mapping, runtime: 'tfjs', maxLineLength: 1000, idField: undefined });
    expect(tfjs.parse({ line: 1, text: '[1,2,3,4,5,6,7,8]' })).toMatchObject({ shape: [8], dtype: 'float32' });
  });

  it('fails malformed JSON and too-long lines with a reason, keeping the id when the line parsed', () => {
    const parser = createRecordParser({ mapping, runtime: 'onnx', maxLineLength: 30, idField: 'id' });
    expect(() => parser.parse({ line: 1, text: '{"id": 1, ' })).toThrow(/^malformed JSON: /);
    expect(() => parser.parse({ line: 2, text: 'x'.repeat(31) })).toThrow(
      'line too long: 31 bytes, over the limit of 30 (--max-line-length).',
    );
    const record: { line: number; text: string; id?: unknown } = { line: 3, text: '{"id":"a","input":[1]}' };
    expect(() => parser.parse(record)).toThrow(/wrong shape/);
    expect(record.id).toBe('a');
    const missing: { line: number; text: string; id?: unknown } = { line: 4, text: '[1,2,3,4,5,6,7,8]' };
    parser.parse(missing);
    expect(missing.id).toBeNull();
  });

  it('reads a common line (fast path) and the same record spelled otherwise (JSON.parse path) alike', () => {
    const features = [0.1, -2.5e-3, 3, 1e-7, 4.25, -0, 0.333333333, 65504];
    // `\u0078` in a field the model does not read sends the line down the general path.
    const spellings = (extra: object): [string, string] => [
      JSON.stringify({ key: 'k', features, note: 'x', ...extra }),
      JSON.stringify({ key: 'k', features, ...extra }).replace(/^\{/, '{"note":"\\u0078",'),
    ];
    const cases: { mapping: InputMapping; runtime: 'onnx' | 'tfjs'; idField?: string; extra?: object }[] = [
      { mapping, runtime: 'onnx', idField: 'key' },
      { mapping, runtime: 'tfjs', idField: 'key' },
      { mapping: createInputMapping([free], [], ['-1,2']), runtime: 'onnx' },
      {
        mapping: createInputMapping([{ ...vector8, dtype: 'float64' }], ['v'], []),
        runtime: 'onnx',
        extra: { v: features },
      },
      // The id field is the input field: both read the array.
      { mapping, runtime: 'onnx', idField: 'features' },
    ];
    for (const { mapping: m, runtime, idField, extra = {} } of cases) {
      const parser = createRecordParser({ mapping: m, runtime, maxLineLength: 1000, idField });
      const [fast, general] = spellings(extra).map((text, i) => {
        const record: { line: number; text: string; id?: unknown } = { line: i + 1, text };
        const example = parser.parse(record) as { data: Float32Array | Float64Array };
        expect(parser.recordOf(example)).toBe(record);
        return { example, data: Array.from(example.data, (v) => (Object.is(v, -0) ? '-0' : v)), id: record.id };
      });
      expect(fast.example.data.constructor).toBe(general.example.data.constructor);
      // Entries leave out the symbol that ties each example to its own line.
      const fields = (e: object, data: unknown[]) => ({ ...Object.fromEntries(Object.entries(e)), data });
      expect(fields(fast.example, fast.data)).toEqual(fields(general.example, general.data));
      expect(fast.id).toEqual(general.id);
    }
  });

  it('builds a record of tensors for a multi-input model', () => {
    const two = createInputMapping(
      [
        { name: 'a', dtype: 'float32', dims: [1] },
        { name: 'b', dtype: 'int64', dims: [] },
      ],
      [],
      [],
    );
    const parser = createRecordParser({ mapping: two, runtime: 'onnx', maxLineLength: 100, idField: undefined });
    const example = parser.parse({ line: 1, text: '{"a":[0.5],"b":3}' }) as Record<
      string,
      { dims: number[]; type: string }
    >;
    expect(example.a.dims).toEqual([1]);
    expect(example.b).toMatchObject({ dims: [], type: 'int64' });
  });
});
