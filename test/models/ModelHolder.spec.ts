import { NEVER, Observable, of, Subject, throwError } from 'rxjs';
import { ModelHolder } from '../../src/models/ModelHolder';

function track<M>(load: (signal: AbortSignal) => unknown) {
  const released: M[] = [];
  let signal: AbortSignal | undefined;
  const holder = new ModelHolder<M>(
    (s) => {
      signal = s;
      return load(s) as M;
    },
    (model) => {
      released.push(model);
    },
  );
  return { holder, released, signal: () => signal! };
}

describe('ModelHolder', () => {
  it('a synchronous load is loaded at once; model$ replays it to later waiters without completing', () => {
    const { holder, released } = track<string>(() => 'm');
    expect(holder.state).toBe('loaded');
    expect(holder.model).toBe('m');
    const seen: string[] = [];
    let completed = false;
    holder.model$.subscribe({ next: (m) => seen.push(m), complete: () => (completed = true) });
    expect(seen).toEqual(['m']);
    expect(completed).toBe(false);
    expect(released).toEqual([]);
  });

  it('releaseWhenIdle waits for the last user; release happens exactly once', () => {
    const { holder, released } = track<string>(() => 'm');
    holder.retain();
    holder.retain();
    void holder.releaseWhenIdle();
    void holder.unref();
    expect(released).toEqual([]);
    void holder.unref();
    expect(released).toEqual(['m']);
    expect(holder.state).toBe('released');
    void holder.release();
    void holder.unref();
    expect(released).toEqual(['m']);
  });

  it('release() cancels an Observable load: its signal aborts, its subscription ends, waiters get the given error', () => {
    let unsubscribed = false;
    const { holder, released, signal } = track<string>(
      () =>
        new Observable<string>(() => () => {
          unsubscribed = true;
        }),
    );
    const errors: unknown[] = [];
    holder.model$.subscribe({ error: (e) => errors.push(e) });
    const why = new Error('no longer wanted');
    void holder.release(why);
    expect(signal().aborted).toBe(true);
    expect(unsubscribed).toBe(true);
    expect(errors).toEqual([why]);
    expect(released).toEqual([]);
  });

  it('a Promise load that resolves after the release has its model released at once (a late model never leaks)', async () => {
    let resolve!: (m: string) => void;
    const { holder, released, signal } = track<string>(() => new Promise<string>((r) => (resolve = r)));
    void holder.release();
    expect(signal().aborted).toBe(true);
    resolve('late');
    await Promise.resolve();
    await Promise.resolve();
    expect(released).toEqual(['late']);
    expect(holder.model).toBeUndefined();
  });

  it('a failed load (throw, error, empty Observable) errors model$ and releases nothing', () => {
    for (const load of [
      () => {
        throw new Error('sync');
      },
      () => throwError(() => new Error('async')),
      () => of(),
    ]) {
      const { holder, released } = track<string>(load);
      const errors: unknown[] = [];
      holder.model$.subscribe({ error: (e) => errors.push(e) });
      expect(holder.state).toBe('failed');
      expect(String(errors[0])).toMatch(/sync|async|completed without a model/);
      void holder.release();
      expect(released).toEqual([]);
    }
  });

  it('keeps an Observable load subscribed while the model is held (a shared model reference), and ends it on release', () => {
    const source = new Subject<string>();
    const { holder } = track<string>(() => source);
    source.next('m');
    expect(holder.state).toBe('loaded');
    expect(source.observed).toBe(true);
    void holder.release();
    expect(source.observed).toBe(false);
  });

  it('a failing or asynchronous release is swallowed and reported as settled', async () => {
    const throwing = new ModelHolder<string>(
      () => 'a',
      () => {
        throw new Error('cannot free');
      },
    );
    expect(() => throwing.release()).not.toThrow();
    const rejecting = new ModelHolder<string>(
      () => 'b',
      () => Promise.reject(new Error('cannot free')),
    );
    await expect(rejecting.release()).resolves.toBeUndefined();
    const pending = new ModelHolder<string>(
      () => NEVER as Observable<string>,
      () => undefined,
    );
    expect(pending.release()).toBeUndefined();
  });
});
