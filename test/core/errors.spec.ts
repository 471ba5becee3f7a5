import { describeValue, messageOf, toError } from '../../src/core/errors';

describe('describeValue', () => {
  it.each([
    [0, '`0` (number)'],
    [NaN, '`NaN` (number)'],
    ['x', '`x` (string)'],
    [10n, '`10n` (bigint)'],
    [null, '`null` (null)'],
    [undefined, '`undefined` (undefined)'],
    [[1, NaN, -Infinity], '`[1,NaN,-Infinity]` (array)'],
    [{ a: Infinity }, '`{"a":Infinity}` (object)'],
    [new Float32Array([1, 2]), '`[1,2]` (Float32Array)'],
  ])('%p → %s', (value, expected) => {
    expect(describeValue(value)).toBe(expected);
  });

  it('cuts long values to 80 characters and typed arrays to 16 items', () => {
    expect(describeValue('y'.repeat(200))).toBe(`\`${'y'.repeat(77)}...\` (string)`);
    expect(describeValue(new Uint8Array(20))).toBe('`[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,...]` (Uint8Array)');
  });

  it('never throws: a revoked Proxy, a throwing toJSON', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(describeValue(proxy)).toMatch(/\(object\)$/);
    const hostile = {
      toJSON() {
        throw new Error('no');
      },
    };
    expect(describeValue(hostile)).toBe('`[object Object]` (object)');
  });
});

describe('messageOf', () => {
  it('reads the message of an Error, of an error-like object from another realm, of a thrown string', () => {
    expect(messageOf(new RangeError('out'))).toBe('out');
    expect(messageOf({ message: 'native addon' })).toBe('native addon');
    expect(messageOf('plain')).toBe('plain');
  });

  it('describes anything else, and never throws', () => {
    expect(messageOf(42)).toBe('`42` (number)');
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(() => messageOf(proxy)).not.toThrow();
  });
});

describe('toError', () => {
  it('keeps an Error as it is', () => {
    const error = new TypeError('t');
    expect(toError(error)).toBe(error);
  });

  it('wraps a thrown string or value, keeping the original as cause', () => {
    expect(toError('s')).toEqual(new Error('s'));
    const wrapped = toError({ code: 7 });
    expect(wrapped.message).toBe('Non-Error thrown: `{"code":7}` (object)');
    expect(wrapped.cause).toEqual({ code: 7 });
  });
});
