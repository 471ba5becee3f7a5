import { Observable, ReplaySubject, type Subscription } from 'rxjs';

interface Entry {
  readonly model$: ReplaySubject<unknown>;
  refs: number;
  loaded: boolean;
  model: unknown;
  loading: Subscription | undefined;
  readonly release: (model: unknown) => void;
}

/**
 * One model load per process for operators that name the same `modelIdentifier` (Beam's `Shared`): the first user
 * loads, later users get the same model, and the model is released when the last user lets go.
 */
export class SharedModelRegistry {
  private readonly entries = new Map<string, Entry>();

  /** Number of models currently held (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The shared model under `key`, loading it with `load` when nobody holds it. Each subscription is one reference;
   * unsubscribing drops it, and the last one out releases the model with `release`. A failed load is not cached.
   */
  acquire<M>(key: string, load: () => Observable<M>, release: (model: M) => void): Observable<M> {
    return new Observable<M>((subscriber) => {
      let entry = this.entries.get(key);
      if (entry === undefined) {
        const created: Entry = {
          model$: new ReplaySubject<unknown>(1),
          refs: 0,
          loaded: false,
          model: undefined,
          loading: undefined,
          release: release as (model: unknown) => void,
        };
        entry = created;
        this.entries.set(key, created);
        created.refs++;
        const inner = created.model$.subscribe(subscriber as never);
        created.loading = load().subscribe({
          next: (model) => {
            if (created.loaded) return;
            created.loaded = true;
            created.model = model;
            created.model$.next(model);
          },
          error: (error: unknown) => {
            if (this.entries.get(key) === created) this.entries.delete(key);
            created.model$.error(error);
          },
          complete: () => {
            if (!created.loaded) {
              if (this.entries.get(key) === created) this.entries.delete(key);
              created.model$.error(new Error(`Loading the shared model '${key}' completed without a model.`));
            }
          },
        });
        return () => {
          inner.unsubscribe();
          this.drop(key, created);
        };
      }
      const existing = entry;
      existing.refs++;
      const inner = existing.model$.subscribe(subscriber as never);
      return () => {
        inner.unsubscribe();
        this.drop(key, existing);
      };
    });
  }

  private drop(key: string, entry: Entry): void {
    entry.refs--;
    if (entry.refs > 0) return;
    if (this.entries.get(key) === entry) this.entries.delete(key);
    entry.loading?.unsubscribe();
    if (entry.loaded) entry.release(entry.model);
  }
}

/** The process-wide registry used by `runInference`'s `modelIdentifier`. */
export const sharedModels = new SharedModelRegistry();
