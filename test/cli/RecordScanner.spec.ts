import fc from 'fast-check';
import { RecordScanner, type RecordScannerConfig } from '../../src/cli/RecordScanner';

const DEFAULT: RecordScannerConfig = { inputKeys: ['input', 'features', 'x'], idKey: 'id', dtype: 'float32' };

/**
 * What `JSON.parse` and the CLI's input mapping make of a line the scanner read: the first input key present (in the
 * default rule's order), as the typed array stores it, and the id. Throws where JSON.parse does.
 */
function reference(text: string, config: RecordScannerConfig): { values: number[]; id: unknown } {
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const key = config.inputKeys.find((k) => Object.prototype.hasOwnProperty.call(parsed, k))!;
  const stored = config.dtype === 'float32' ? Float32Array.from(parsed[key] as number[]) : (parsed[key] as number[]);
  return { values: Array.from(stored), id: config.idKey === undefined ? undefined : parsed[config.idKey] };
}

/** The scanner's reading of a line, or `undefined` when it leaves the line to the general path. */
function scan(text: string, config: RecordScannerConfig = DEFAULT): { values: number[]; id: unknown } | undefined {
  const scanner = new RecordScanner(config);
  const values = scanner.scan(text);
  if (values === undefined) return undefined;
  expect(values).toBeInstanceOf(config.dtype === 'float32' ? Float32Array : Float64Array);
  return { values: Array.from(values), id: scanner.id };
}

/** Same values, telling -0 from 0 (`toEqual` does; a note for the reader). */
function expectSame(actual: { values: number[]; id: unknown } | undefined, text: string, config = DEFAULT): void {
  expect(actual).toBeDefined();
  const expected = reference(text, config);
  expect(actual!.values.map((v) => (Object.is(v, -0) ? '-0' : v))).toEqual(
    expected.values.map((v) => (Object.is(v, -0) ? '-0' : v)),
  );
  expect(actual!.id).toEqual(expected.id);
}

const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -3e38, max: 3e38 });
/** The ways a JSON writer (or a person) spells a number. */
const numberText = fc.oneof(
  finite.map((v) => JSON.stringify(v)),
  fc.tuple(finite, fc.integer({ min: 0, max: 20 })).map(([v, d]) => v.toExponential(d)),
  fc
    .tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 25 }))
    .map(([v, d]) => v.toFixed(d)),
  fc.integer({ min: -1e9, max: 1e9 }).map(String),
  fc.stringMatching(/^-?(0|[1-9]\d{0,25})(\.\d{1,30})?([eE][+-]?\d{1,3})?$/),
);
/** A string JSON needs no escape for: no quote, backslash or control character. */
const plainString = fc
  .string({ unit: 'binary', maxLength: 12 })
  .filter((s) => ![...s].some((ch) => ch === '"' || ch === '\\' || ch.charCodeAt(0) < 0x20));
const space = fc.constantFrom('', ' ', '  ', '\t', '\n', '\r\n');
const scalarText = fc.oneof(
  plainString.map((s) => `"${s}"`),
  numberText,
  fc.constantFrom('true', 'false', 'null'),
);
/** A line of the common shape: an id, other scalar fields, one input key holding a flat array of numbers. */
const plainLine = fc
  .record({
    id: fc.option(scalarText, { nil: undefined }),
    inputKey: fc.constantFrom('input', 'features', 'x'),
    numbers: fc.array(numberText, { minLength: 1, maxLength: 20 }),
    extra: fc.array(fc.tuple(fc.constantFrom('a', 'name', 'label', 'ids', 'feature'), scalarText), { maxLength: 3 }),
    s: space,
  })
  .map(({ id, inputKey, numbers, extra, s }) => {
    const fields = [`"${inputKey}"${s}:${s}[${s}${numbers.join(`${s},${s}`)}${s}]`];
    if (id !== undefined) fields.unshift(`"id":${s}${id}`);
    for (const [key, value] of extra) fields.push(`"${key}"${s}:${value}`);
    return `${s}{${s}${fields.join(`,${s}`)}${s}}${s}`;
  });

describe('RecordScanner', () => {
  it('reads the common line exactly as JSON.parse and the typed array do (float32 and float64)', () => {
    fc.assert(
      fc.property(plainLine, (text) => {
        for (const config of [DEFAULT, { ...DEFAULT, dtype: 'float64' } as const]) {
          // A value beyond the type's range is stored as ±Infinity: the general path names it.
          if (reference(text, config).values.every(Number.isFinite)) expectSame(scan(text, config), text, config);
          else expect(scan(text, config)).toBeUndefined();
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('reads every number as JSON.parse does, including ties, -0 and long or tiny ones', () => {
    const cases = [
      '0',
      '-0',
      '-0.0',
      '0.1',
      '1e22',
      '1e23',
      '9007199254740993',
      '0.30000000000000004',
      '2.2250738585072014e-308',
      '4.9e-324',
      '1.00000005960464477539062',
      '3.4028235e38',
      '123456789012345678901234567890',
      '0.000000000000000000000000000001',
      '1E+2',
      '1e-2',
    ];
    for (const n of cases) {
      const text = `{"x":[${n}]}`;
      expectSame(scan(text), text);
      expectSame(scan(text, { ...DEFAULT, dtype: 'float64' }), text, { ...DEFAULT, dtype: 'float64' });
    }
  });

  it('never reads a line differently from JSON.parse: a mutated line is read the same or left to the general path', () => {
    fc.assert(
      fc.property(
        plainLine,
        fc.nat(),
        fc.constantFrom('delete', 'insert', 'replace'),
        // JSON's own characters, and look-alikes JSON.parse rejects: other spaces, a byte order mark, a non-ASCII letter.
        fc.constantFrom(...'{}[]",:.-+eE0123456789 \\tnulfase\u0000', '\u00a0', '\u2028', '\ufeff', '\u000b', 'é'),
        (text, n, edit, char) => {
          const at = n % (text.length + 1);
          const mutated =
            edit === 'delete'
              ? text.slice(0, at) + text.slice(at + 1)
              : edit === 'insert'
                ? text.slice(0, at) + char + text.slice(at)
                : text.slice(0, at) + char + text.slice(at + 1);
          const read = scan(mutated);
          if (read === undefined) return;
          expect(() => JSON.parse(mutated)).not.toThrow();
          expectSame(read, mutated);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['malformed JSON', '{"id":1,"x":[1,2,]}'],
    ['a leading zero', '{"x":[01]}'],
    ['trailing text', '{"x":[1]} x'],
    ['an escape in a string', '{"id":"a\\"b","x":[1]}'],
    ['an escape in a key', '{"\\u0078":[1]}'],
    ['a control character in a string', '{"id":"a\u0001","x":[1]}'],
    ['a nested field', '{"meta":{"a":1},"x":[1]}'],
    ['an array field besides the input', '{"tags":["a"],"x":[1]}'],
    ['a nested input', '{"x":[[1,2],[3,4]]}'],
    ['a non-number in the input', '{"x":[1,"2"]}'],
    ['an empty input', '{"x":[]}'],
    ['no input key', '{"id":1,"y":[1]}'],
    ['two input keys (the default rule picks one)', '{"features":[1],"input":[2]}'],
    ['the input key twice', '{"x":[1],"x":[2]}'],
    ['a value beyond float32', '{"x":[1e39]}'],
    ['an array record', '[1,2,3]'],
    ['an empty object', '{}'],
    ['NaN', '{"x":[NaN]}'],
    ['a truncated line', '{"x":[1,2'],
    ['a byte order mark', '\ufeff{"x":[1]}'],
    ['a no-break space between tokens', '{"x":\u00a0[1]}'],
    ['a line separator after the object', '{"x":[1]}\u2028'],
    ['a leading plus', '{"x":[+1]}'],
    ['a fraction without its integer part', '{"x":[.5]}'],
    ['a point without digits after it', '{"x":[1.]}'],
    ['an exponent without digits', '{"x":[1e]}'],
    ['Infinity', '{"x":[Infinity]}'],
    ['an exponent beyond a double', '{"x":[1e999]}'],
    ['a leading zero in the id', '{"id":007,"x":[1]}'],
    ['an object id', '{"id":{"a":1},"x":[1]}'],
  ])('leaves %s to the general path', (_, text) => {
    expect(scan(text)).toBeUndefined();
  });

  it('keeps the last id when the id key comes twice, as JSON.parse does', () => {
    expect(scan('{"id":"a","x":[1],"id":7}')).toEqual({ values: [1], id: 7 });
    expect(scan('{"x":[1]}')).toEqual({ values: [1], id: undefined });
  });

  it('keeps the id as JSON gives it: a string stays a string, a number (even -0) a number; keys may be any text', () => {
    expect(scan('{"id":"7","x":[1]}')).toEqual({ values: [1], id: '7' });
    expect(scan('{"id":7,"x":[1]}')).toEqual({ values: [1], id: 7 });
    expect(Object.is(scan('{"id":-0,"x":[1]}')!.id, -0)).toBe(true);
    expect(scan('{"id":1E+2,"x":[1e-7]}')).toEqual({ values: [Math.fround(1e-7)], id: 100 });
    const unicode: RecordScannerConfig = { inputKeys: ['é'], idKey: '\u2028', dtype: 'float64' };
    expect(scan('{"\u2028":"ü","é":[-0.5]}', unicode)).toEqual({ values: [-0.5], id: 'ü' });
  });

  it('reads arrays longer than its first buffer, and returns a new array per line', () => {
    const scanner = new RecordScanner(DEFAULT);
    const long = Array.from({ length: 1000 }, (_, i) => i / 7);
    const a = scanner.scan(JSON.stringify({ x: long }))!;
    const b = scanner.scan('{"x":[5,6]}')!;
    expect(Array.from(a)).toEqual(Array.from(Float32Array.from(long)));
    expect(Array.from(b)).toEqual([5, 6]);
  });
});
