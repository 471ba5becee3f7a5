import { isObservable, ReplaySubject, type Observable, type Subscription } from 'rxjs';
import { isThenable } from './inferenceOutputs.js';

/** What a holder's load may return: the model, a Promise of it, or an Observable (its first value is the model). */
export type HeldLoad<M> = M | PromiseLike<M> | Observable<M>;

/** Where a held model is in its life. */
export type ModelHolderState = 'loading' | 'loaded' | 'failed' | 'released';

/**
 * One model's lifecycle, the one the model slot of `runInference`, the shared-model registry and the keyed model
 * manager all build on: its load (cancellable), its reference count, and its release — exactly once, whatever ends it.
 *
 * - The load starts at construction with an `AbortSignal` that aborts when the holder is released before the load
 *   ends. A synchronous load is loaded at once; an Observable load gives its first value, and its subscription is
 *   kept until the release (for a shared model that subscription *is* the reference); a Promise load that resolves
 *   after the release has its model released at once, so a late model never leaks.
 * - `whenLoadEnds(fn)` tells when the load is really over, cancelled ones included (for one load at a time).
 * - `model$` replays the outcome to everyone who waits: the model (never completing), or the load's error. A load
 *   cancelled by `release()` before it ended errors `model$` with the error given to `release`, if any.
 * - `retain()` / `unref()` count users (batches, subscribers). `releaseWhenIdle()` releases the model as soon as no
 *   user is left (now, if none is); `release()` releases it now, users or not (their work was aborted).
 * - The release function is called once, for a loaded model only; its failure (a throw or a rejected Promise) is
 *   swallowed, never unhandled.
 */
export class ModelHolder<M> {
  private readonly outcome = new ReplaySubject<M>(1);
  private readonly controller = new AbortController();
  private loading: Subscription | undefined;
  private current: ModelHolderState = 'loading';
  private value: M | undefined;
  private failure: unknown;
  private users = 0;
  private idleRelease = false;
  /** Called once the load has ended (`undefined` once it has). */
  private endWaiters: (() => void)[] | undefined = [];

  /**
   * @param load - starts the load; `signal` aborts when the holder is released before the load ends.
   * @param dispose - frees a loaded model (the handler's `releaseModel`).
   */
  constructor(
    load: (signal: AbortSignal) => HeldLoad<M>,
    private readonly dispose: (model: M) => unknown,
  ) {
    let result: HeldLoad<M>;
    try {
      result = load(this.controller.signal);
    } catch (error) {
      this.fail(error);
      this.loadEnded();
      return;
    }
    if (isObservable(result)) {
      const subscription = result.subscribe({
        next: (model) => {
          this.loaded(model);
          this.loadEnded();
        },
        error: (error: unknown) => {
          this.fail(error);
          this.loadEnded();
        },
        complete: () => {
          this.fail(new Error('loadModel returned an Observable that completed without a model.'));
          this.loadEnded();
        },
      });
      // Kept until the release (a synchronous load has already settled: nothing more to hold).
      if (this.current === 'released') subscription.unsubscribe();
      else this.loading = subscription;
    } else if (isThenable(result)) {
      result.then(
        (model) => {
          if (this.current === 'released') void this.releaseModel(model);
          else this.loaded(model);
          this.loadEnded();
        },
        (error: unknown) => {
          this.fail(error);
          this.loadEnded();
        },
      );
    } else {
      this.loaded(result);
      this.loadEnded();
    }
  }

  /** Where the model is in its life. */
  get state(): ModelHolderState {
    return this.current;
  }

  /** The model, once loaded (and until released). */
  get model(): M | undefined {
    return this.value;
  }

  /** Why the load failed, once it has. */
  get error(): unknown {
    return this.failure;
  }

  /** Number of users holding the model. */
  get refs(): number {
    return this.users;
  }

  /** The model once loaded (replayed, never completing), or the load's error. */
  get model$(): Observable<M> {
    return this.outcome.asObservable();
  }

  /**
   * Calls `fn` once the load has ended — with a model, a failure, or after a cancellation once the handler's load has
   * given up (a Promise load that ignores its signal ends when it settles) — at once if it has.
   */
  whenLoadEnds(fn: () => void): void {
    if (this.endWaiters === undefined) fn();
    else this.endWaiters.push(fn);
  }

  /** One more user (a batch, a subscriber). */
  retain(): void {
    this.users++;
  }

  /** One user fewer; the last one out releases the model when `releaseWhenIdle` was asked. */
  unref(): void | PromiseLike<void> {
    this.users--;
    if (this.users <= 0 && this.idleRelease) return this.release();
    return undefined;
  }

  /** Releases the model once no user is left: now, if none is. */
  releaseWhenIdle(): void | PromiseLike<void> {
    this.idleRelease = true;
    return this.users <= 0 ? this.release() : undefined;
  }

  /**
   * Releases now, users or not: a load still running is cancelled (its signal aborted, its subscription ended, and
   * `model$` errors with `error` when given); a loaded model is released. Later calls do nothing. Returns a Promise
   * when the release is asynchronous (it never rejects).
   */
  release(error?: unknown): void | PromiseLike<void> {
    const was = this.current;
    if (was === 'released') return undefined;
    this.current = 'released';
    const model = this.value;
    this.value = undefined;
    const loading = this.loading;
    this.loading = undefined;
    if (was === 'loading') this.controller.abort(error);
    loading?.unsubscribe();
    if (loading !== undefined) this.loadEnded(); // an Observable load ends with its subscription
    if (was === 'loading' && error !== undefined) this.outcome.error(error);
    return was === 'loaded' ? this.releaseModel(model as M) : undefined;
  }

  private loaded(model: M): void {
    if (this.current !== 'loading') return;
    this.current = 'loaded';
    this.value = model;
    this.outcome.next(model);
  }

  private fail(error: unknown): void {
    if (this.current !== 'loading') return;
    this.current = 'failed';
    this.failure = error;
    this.loading?.unsubscribe();
    this.loading = undefined;
    this.outcome.error(error);
  }

  private loadEnded(): void {
    const waiters = this.endWaiters;
    this.endWaiters = undefined;
    for (const fn of waiters ?? []) fn();
  }

  private releaseModel(model: M): void | PromiseLike<void> {
    try {
      const done = this.dispose(model);
      if (isThenable(done)) {
        return Promise.resolve(done).then(
          () => undefined,
          () => undefined,
        );
      }
    } catch {
      // A model that cannot be released cleanly has nothing more we can do for it; the stream carries on.
    }
    return undefined;
  }
}
