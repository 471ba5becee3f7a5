import { Observable } from 'rxjs';
import { ModelHolder, type HeldLoad } from '../models/ModelHolder.js';

/**
 * One model load per process for operators that name the same `modelIdentifier` (Beam's `Shared`): the first user
 * loads, later users get the same model, and the model is released when the last user lets go. Each entry is a
 * {@link ModelHolder} released when idle.
 */
export class SharedModelRegistry {
  private readonly entries = new Map<string, ModelHolder<unknown>>();

  /** Number of models currently held (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The shared model under `key`, loading it with `load` when nobody holds it. Each subscription is one reference;
   * unsubscribing drops it, and the last one out releases the model with `release` (or cancels its load: `load`'s
   * signal aborts). A failed load is not cached.
   */
  acquire<M>(key: string, load: (signal: AbortSignal) => HeldLoad<M>, release: (model: M) => unknown): Observable<M> {
    return new Observable<M>((subscriber) => {
      let holder = this.entries.get(key) as ModelHolder<M> | undefined;
      if (holder === undefined) {
        const created = new ModelHolder<M>(load, release);
        holder = created;
        if (created.state !== 'failed') {
          this.entries.set(key, created as ModelHolder<unknown>);
          created.model$.subscribe({
            error: () => {
              if (this.entries.get(key) === created) this.entries.delete(key);
            },
          });
        }
      }
      const held = holder;
      held.retain();
      void held.releaseWhenIdle();
      const inner = held.model$.subscribe(subscriber);
      return () => {
        inner.unsubscribe();
        void held.unref();
        if (held.state === 'released' && this.entries.get(key) === held) this.entries.delete(key);
      };
    });
  }
}

/** The process-wide registry used by `runInference`'s `modelIdentifier`. */
export const sharedModels = new SharedModelRegistry();
