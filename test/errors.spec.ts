import { describeValue, messageOf, toError } from '../src/core/errors';

describe('toError', () => {
  it('keeps Errors and wraps anything else with the original as cause', () => {
    const e = new Error('x');
    expect(toError(e)).toBe(e);
    const wrapped = toError({ code: 1 });
    expect(wrapped.message).toMatch(/Non-Error thrown: `\{"code":1\}` \(object\)/);
    expect(wrapped.cause).toEqual({ code: 1 });
    expect(toError('boom').message).toBe('boom');
  });
  it('describes values briefly', () => {
    expect(describeValue(0)).toBe('`0` (number)');
    expect(describeValue('x'.repeat(100))).toMatch(/\.\.\.` \(string\)$/);
  });

  it('prints NaN and Infinity as such, in values and inside arrays and records', () => {
    expect(describeValue(NaN)).toBe('`NaN` (number)');
    expect(describeValue([1, NaN, -Infinity])).toBe('`[1,NaN,-Infinity]` (array)');
    expect(describeValue({ x: Infinity })).toBe('`{"x":Infinity}` (object)');
    expect(describeValue(new Float32Array([1, NaN]))).toBe('`[1,NaN]` (Float32Array)');
  });
  it('never throws, whatever the value', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const getter = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    expect(describeValue(proxy)).toBe('`a value that cannot be read` (object)');
    expect(describeValue(getter)).toBe('`[object Object]` (object)');
    expect(messageOf(proxy)).toMatch(/cannot be read/);
    expect(toError(proxy).message).toMatch(/Non-Error thrown/);
  });
});
