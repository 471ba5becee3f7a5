import { observable, of } from 'rxjs';
import { plainPromise } from '../../src/engine/async';
import { streamingPromise } from '../../src/core/streamingPromise';

describe('plainPromise (the engine awaits these with one `then` instead of `from()`)', () => {
  it('returns a native Promise that has no interop Observable face', () => {
    const promise = Promise.resolve([1]);
    expect(plainPromise(promise)).toBe(promise);
  });

  it('leaves to `from()` a streamingPromise (its partial outputs come through the Observable face)', () => {
    const promise = streamingPromise(() => Promise.resolve([1]));
    expect(plainPromise(promise)).toBeUndefined();
    const interop = Object.assign(Promise.resolve([1]), { [observable]: () => of([1]) });
    expect(plainPromise(interop)).toBeUndefined();
  });

  it('leaves to `from()` other thenables, Observables, arrays and values it cannot read', () => {
    expect(plainPromise({ then: (resolve: (v: unknown) => void) => resolve([1]) })).toBeUndefined();
    expect(plainPromise(of([1]))).toBeUndefined();
    expect(plainPromise([1])).toBeUndefined();
    expect(plainPromise(undefined)).toBeUndefined();
    const revoked = Proxy.revocable(Promise.resolve([1]), {});
    revoked.revoke();
    expect(plainPromise(revoked.proxy)).toBeUndefined();
  });
});
