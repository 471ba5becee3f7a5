import { catchError, finalize, of, switchMap, take, throwError, type Observable } from 'rxjs';
import { ModelLoadError, toError } from '../core/errors.js';
import type { KeyModelPathMapping } from '../core/types.js';
import { outputsAsObservable } from './inferenceOutputs.js';
import { regroupKeys, type KeyedModelGroup } from './regroupKeys.js';
import type { InferenceResult } from './ModelHandler.js';
import { ModelHolder, type HeldLoad } from './ModelHolder.js';

export type { KeyedModelGroup } from './regroupKeys.js';

/** A group's model: its holder, and the group it serves. */
interface GroupModel {
  readonly index: number;
  readonly holder: ModelHolder<unknown>;
}

/**
 * The model of a multi-model {@link KeyedModelHandler} (Beam's `_ModelManager`): one model per key group, loaded
 * lazily on the group's first batch, at most `maxModelsInMemory` kept loaded, least recently used first out. Each
 * model is a {@link ModelHolder} whose users are the batches running on (or waiting for) it.
 *
 * The models beyond the bound (all but the `maxModelsInMemory` most recently used) are released with the group
 * handler's `releaseModel` as soon as they are idle: never while a batch runs on them, so with batches in flight on
 * several groups the bound can be exceeded until those batches finish. Concurrent batches of a group that is loading
 * share one load. A failed load fails the batches waiting on it with a `ModelLoadError` and is not cached: the group's
 * next batch tries again. `release()` releases everything the manager loaded (a load still running is cancelled: its
 * signal aborts, and a model that arrives later is released). The configuration is immutable: a per-key refresh
 * (`withMappings`) returns a new manager, which loads its models lazily again (models are not carried over, even for
 * unchanged paths).
 */
export class KeyedModelManager<K> {
  private readonly keyToGroup = new Map<K, number>();
  /** Loading and loaded models, least recently used first. */
  private readonly models = new Map<number, GroupModel>();
  private readonly pendingReleases = new Set<PromiseLike<void>>();
  private closed = false;

  /**
   * @param groups - the key groups (validated by the caller: keys unique across groups, no group empty).
   * @param maxModelsInMemory - how many models may stay loaded at once. @default Infinity
   */
  constructor(
    readonly groups: readonly KeyedModelGroup<K>[],
    readonly maxModelsInMemory: number = Infinity,
  ) {
    groups.forEach((group, index) => group.keys.forEach((key) => this.keyToGroup.set(key, index)));
  }

  /** Index of the group that serves `key`, or `undefined` when no group does. */
  groupIndexOf(key: K): number | undefined {
    return this.keyToGroup.get(key);
  }

  /** Number of models held now (loaded or loading), including busy ones beyond the bound. */
  get size(): number {
    return this.models.size;
  }

  /** Ids of the groups whose model is loaded now, least recently used first. */
  loadedGroupIds(): string[] {
    return [...this.models.values()].filter((m) => m.holder.state === 'loaded').map((m) => this.groups[m.index]!.id);
  }

  /**
   * Runs `fn` on the model of group `index`, loading it first when needed, and holds the model for as long as the
   * work runs. Synchronous (an array, or a synchronous throw) when the model is loaded (or loads synchronously) and
   * `fn` returns an array; otherwise an Observable of the outputs, to be subscribed once.
   */
  run<R>(index: number, fn: (model: any) => InferenceResult<R>): readonly R[] | Observable<readonly R[]> {
    if (this.closed) throw new Error('This KeyedModelManager has been released; it cannot run batches any more.');
    let model = this.models.get(index);
    if (model === undefined) model = this.open(index);
    else this.touch(model);
    const { holder } = model;
    if (holder.state === 'failed') throw this.loadError(index, holder.error);
    // The reference is taken before the bound is enforced, so that a synchronous load cannot evict its own model.
    holder.retain();
    this.enforceBound();
    if (holder.state === 'loaded') return this.runLoaded(model, fn);
    // Still loading: the reference belongs to the returned Observable and is dropped when it finalizes.
    return holder.model$.pipe(
      take(1),
      // A load that failed names the group; a load cancelled by `release()` carries the error given there.
      catchError((error: unknown) =>
        throwError(() => (holder.state === 'released' ? error : this.loadError(index, error))),
      ),
      switchMap((loaded) => {
        const result = fn(loaded);
        return outputsAsObservable(result) ?? of(result as readonly R[]);
      }),
      finalize(() => this.unref(model)),
    );
  }

  /**
   * A new manager for the same groups with the model paths of a per-key update, keeping the LRU bound (see
   * {@link regroupKeys} for the rules; invalid updates throw a `TypeError`/`RangeError` that names the key).
   */
  withMappings(mappings: readonly KeyModelPathMapping<K>[]): KeyedModelManager<K> {
    return new KeyedModelManager(regroupKeys(this.groups, mappings), this.maxModelsInMemory);
  }

  /**
   * Releases every model this manager loaded (and any that finishes loading later); loads still running are cancelled
   * and batches waiting on them fail. Returns a Promise when some `releaseModel` is asynchronous.
   */
  release(): void | PromiseLike<void> {
    this.closed = true;
    for (const { index, holder } of this.models.values()) {
      const group = this.groups[index]!;
      this.track(
        holder.release(
          new ModelLoadError(`The model of key group '${group.id}' was released before it loaded.`, group.path ?? ''),
        ),
      );
    }
    this.models.clear();
    if (this.pendingReleases.size === 0) return undefined;
    return Promise.all(this.pendingReleases).then(() => undefined);
  }

  private runLoaded<R>(
    model: GroupModel,
    fn: (model: any) => InferenceResult<R>,
  ): readonly R[] | Observable<readonly R[]> {
    let result: InferenceResult<R>;
    try {
      result = fn(model.holder.model);
    } catch (error) {
      this.unref(model);
      throw error;
    }
    const later = outputsAsObservable(result);
    if (later === undefined) {
      this.unref(model);
      return result as readonly R[];
    }
    return later.pipe(finalize(() => this.unref(model)));
  }

  private open(index: number): GroupModel {
    const { handler, path } = this.groups[index]!;
    const holder = new ModelHolder<unknown>(
      (signal) => handler.loadModel(path, signal) as HeldLoad<unknown>,
      (model) => handler.releaseModel(model),
    );
    const model: GroupModel = { index, holder };
    if (holder.state === 'failed') return model; // not cached: the next batch tries again
    this.models.set(index, model);
    holder.model$.subscribe({
      next: () => this.enforceBound(),
      error: () => {
        if (this.models.get(index) === model) this.models.delete(index);
      },
    });
    return model;
  }

  /** The `ModelLoadError` batches of group `index` fail with when its load failed. */
  private loadError(index: number, thrown: unknown): ModelLoadError {
    const group = this.groups[index]!;
    const cause = toError(thrown);
    return new ModelLoadError(
      `Loading the model of key group '${group.id}' failed: ${cause.message}`,
      group.path ?? '',
      {
        cause,
      },
    );
  }

  private touch(model: GroupModel): void {
    this.models.delete(model.index);
    this.models.set(model.index, model);
  }

  private unref(model: GroupModel): void {
    void model.holder.unref();
    if (model.holder.refs === 0) this.enforceBound();
  }

  /**
   * Releases the models beyond the bound: all but the `maxModelsInMemory` most recently used. One that is busy
   * (a batch in flight, or still loading) stays until it is idle: this runs again when its last batch finishes.
   */
  private enforceBound(): void {
    let excess = this.models.size - this.maxModelsInMemory;
    for (const model of this.models.values()) {
      if (excess-- <= 0) return;
      if (model.holder.refs > 0 || model.holder.state !== 'loaded') continue;
      this.models.delete(model.index);
      this.track(model.holder.release());
    }
  }

  /** Keeps an asynchronous release until it settles, so that `release()` can wait for it. */
  private track(pending: void | PromiseLike<void>): void {
    if (pending === undefined) return;
    const settled = Promise.resolve(pending);
    this.pendingReleases.add(settled);
    void settled.then(() => this.pendingReleases.delete(settled));
  }
}
