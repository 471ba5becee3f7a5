import { describeValue, toError } from '../src/core/errors';

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
});
