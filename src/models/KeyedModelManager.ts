import { AsyncSubject, finalize, from, isObservable, of, switchMap, take, type Observable } from 'rxjs';
import type { Subscription } from 'rxjs';
import { describeValue, ModelLoadError, toError } from '../core/errors.js';
import type { KeyModelPathMapping } from '../core/types.js';
import { isThenable, outputsAsObservable } from './inferenceOutputs.js';
import type { InferenceResult, ModelHandler } from './ModelHandler.js';

/** One group of keys served by one model (a resolved `KeyMhMapping`, or a group after a per-key refresh). */
export interface KeyedModelGroup<K> {
  /** The group's id: its metrics prefix (without the `-`). */
  readonly id: string;
  /** The keys this group serves (never empty). */
  readonly keys: readonly K[];
  /** The handler that loads and runs this group's model. */
  readonly handler: ModelHandler<any, any, any>;
  /** The model to load: an update path, or `undefined` for the handler's default model. */
  readonly path: string | undefined;
  /** Index of the group of the original configuration this one comes from (refreshes may split groups). */
  readonly origin: number;
}

interface Slot {
  readonly index: number;
  state: 'loading' | 'loaded' | 'failed';
  model: unknown;
  error: Error | undefined;
  /** Batches running on (or waiting for) this model. */
  refs: number;
  released: boolean;
  readonly model$: AsyncSubject<unknown>;
  /** The load, when it is an Observable that can be cancelled. */
  loading: Subscription | undefined;
}

/**
 * The model of a multi-model {@link KeyedModelHandler} (Beam's `_ModelManager`): one model per key group, loaded
 * lazily on the group's first batch, at most `maxModelsInMemory` kept loaded, least recently used first out.
 *
 * The models beyond the bound (all but the `maxModelsInMemory` most recently used) are released with the group
 * handler's `releaseModel` as soon as they are idle: never while a batch runs on them (a reference count per model),
 * so with batches in flight on several groups the bound can be exceeded until those batches finish. Concurrent
 * batches of a group that is loading share one load. A failed load fails the batches waiting on it with a
 * `ModelLoadError` and is not cached: the group's next batch tries again. `release()` releases everything the manager
 * loaded. The configuration is immutable: a per-key refresh (`withMappings`) returns a new manager, which loads its
 * models lazily again (models are not carried over, even for unchanged paths).
 */
export class KeyedModelManager<K> {
  private readonly keyToGroup = new Map<K, number>();
  /** Loading and loaded models, least recently used first. */
  private readonly slots = new Map<number, Slot>();
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
    return this.slots.size;
  }

  /** Ids of the groups whose model is loaded now, least recently used first. */
  loadedGroupIds(): string[] {
    return [...this.slots.values()].filter((s) => s.state === 'loaded').map((s) => this.groups[s.index]!.id);
  }

  /**
   * Runs `fn` on the model of group `index`, loading it first when needed, and holds the model for as long as the
   * work runs. Synchronous (an array, or a synchronous throw) when the model is loaded (or loads synchronously) and
   * `fn` returns an array; otherwise an Observable of the outputs, to be subscribed once.
   */
  run<R>(index: number, fn: (model: any) => InferenceResult<R>): readonly R[] | Observable<readonly R[]> {
    if (this.closed) throw new Error('This KeyedModelManager has been released; it cannot run batches any more.');
    // The reference is taken before the load starts, so that a synchronous load cannot evict its own model.
    let slot = this.slots.get(index);
    if (slot === undefined) slot = this.open(index);
    else {
      this.touch(slot);
      slot.refs++;
    }
    if (slot.state === 'failed') throw slot.error;
    if (slot.state === 'loaded') return this.runLoaded(slot, fn);
    // Still loading: the reference belongs to the returned Observable and is dropped when it finalizes.
    return slot.model$.pipe(
      switchMap((model) => {
        const result = fn(model);
        return outputsAsObservable(result) ?? of(result as readonly R[]);
      }),
      finalize(() => this.unref(slot)),
    );
  }

  /**
   * A new manager for the same groups with the model paths of a per-key update, keeping the LRU bound. Every
   * configured key must appear exactly once; a mapping may take keys from one original group only (groups may be
   * split, each part with its own path, but never merged). Invalid updates throw a `TypeError`/`RangeError` that
   * names the key.
   */
  withMappings(mappings: readonly KeyModelPathMapping<K>[]): KeyedModelManager<K> {
    const originals = new Map<K, KeyedModelGroup<K>>();
    for (const group of this.groups) for (const key of group.keys) originals.set(key, group);
    if (mappings.length === 0) throw new RangeError('Expected at least one KeyModelPathMapping, got an empty list.');
    const seen = new Set<K>();
    const groups = mappings.map((mapping, m): KeyedModelGroup<K> => {
      if (mapping === null || typeof mapping !== 'object' || !Array.isArray(mapping.keys)) {
        throw new TypeError(
          `Expected mapping ${m} to be a KeyModelPathMapping { keys, updatePath }, got ${describeValue(mapping)}.`,
        );
      }
      if (typeof mapping.updatePath !== 'string' || mapping.updatePath === '') {
        throw new TypeError(
          `Expected \`updatePath\` of the mapping for keys ${describeValue(mapping.keys)} to be a non-empty string, got ${describeValue(mapping.updatePath)}.`,
        );
      }
      if (mapping.keys.length === 0) throw new RangeError(`Mapping ${m} (${mapping.updatePath}) has no keys.`);
      let origin: KeyedModelGroup<K> | undefined;
      for (const key of mapping.keys) {
        const group = originals.get(key);
        if (group === undefined) {
          throw new RangeError(`Invalid model update: key ${describeValue(key)} is not in the original configuration.`);
        }
        if (seen.has(key))
          throw new RangeError(`Invalid model update: key ${describeValue(key)} appears in several mappings.`);
        seen.add(key);
        if (origin !== undefined && origin !== group) {
          throw new RangeError(
            `Invalid model update: key ${describeValue(key)} belongs to group '${group.id}', but the mapping for ` +
              `${describeValue(mapping.keys)} starts in group '${origin.id}'; a mapping may split a group, not merge groups.`,
          );
        }
        origin = group;
      }
      const first = origin!;
      return {
        id: mapping.modelId ?? String(mapping.keys[0]),
        keys: [...mapping.keys],
        handler: first.handler,
        path: mapping.updatePath,
        origin: first.origin,
      };
    });
    for (const key of originals.keys()) {
      if (!seen.has(key))
        throw new RangeError(
          `Invalid model update: key ${describeValue(key)} has no mapping; every configured key needs one.`,
        );
    }
    return new KeyedModelManager(groups, this.maxModelsInMemory);
  }

  /**
   * Releases every model this manager loaded (and any that finishes loading later); Observable loads still running
   * are cancelled and batches waiting on them fail. Returns a Promise when some `releaseModel` is asynchronous.
   */
  release(): void | PromiseLike<void> {
    this.closed = true;
    for (const slot of this.slots.values()) {
      if (slot.state === 'loaded') this.releaseSlot(slot);
      else if (slot.state === 'loading') {
        slot.loading?.unsubscribe();
        const group = this.groups[slot.index]!;
        slot.model$.error(
          new ModelLoadError(`The model of key group '${group.id}' was released before it loaded.`, group.path ?? ''),
        );
      }
    }
    this.slots.clear();
    if (this.pendingReleases.size === 0) return undefined;
    return Promise.all(this.pendingReleases).then(() => undefined);
  }

  private runLoaded<R>(slot: Slot, fn: (model: any) => InferenceResult<R>): readonly R[] | Observable<readonly R[]> {
    let result: InferenceResult<R>;
    try {
      result = fn(slot.model);
    } catch (error) {
      this.unref(slot);
      throw error;
    }
    const later = outputsAsObservable(result);
    if (later === undefined) {
      this.unref(slot);
      return result as readonly R[];
    }
    return later.pipe(finalize(() => this.unref(slot)));
  }

  private open(index: number): Slot {
    const group = this.groups[index]!;
    // Opened for a caller: the slot starts with that caller's reference.
    const slot: Slot = {
      index,
      state: 'loading',
      model: undefined,
      error: undefined,
      refs: 1,
      released: false,
      model$: new AsyncSubject(),
      loading: undefined,
    };
    this.slots.set(index, slot);
    let result: unknown;
    try {
      result = group.handler.loadModel(group.path);
    } catch (error) {
      this.failed(slot, error);
      return slot;
    }
    const later = modelAsObservable(result);
    if (later === undefined) this.loaded(slot, result);
    else {
      const subscription = later.pipe(take(1)).subscribe({
        next: (model) => this.loaded(slot, model),
        error: (error: unknown) => this.failed(slot, error),
        complete: () => {
          if (slot.state === 'loading') this.failed(slot, new Error('loadModel completed without a model.'));
        },
      });
      // A thenable cannot be cancelled: let it settle, then release the model if the manager is gone.
      if (isObservable(result) && slot.state === 'loading') slot.loading = subscription;
    }
    this.enforceBound();
    return slot;
  }

  private loaded(slot: Slot, model: unknown): void {
    slot.model = model;
    if (this.closed) {
      this.releaseSlot(slot);
      return;
    }
    slot.state = 'loaded';
    slot.model$.next(model);
    slot.model$.complete();
    this.enforceBound();
  }

  private failed(slot: Slot, thrown: unknown): void {
    const group = this.groups[slot.index]!;
    const cause = toError(thrown);
    slot.state = 'failed';
    slot.error = new ModelLoadError(
      `Loading the model of key group '${group.id}' failed: ${cause.message}`,
      group.path ?? '',
      { cause },
    );
    if (this.slots.get(slot.index) === slot) this.slots.delete(slot.index);
    slot.model$.error(slot.error);
  }

  private touch(slot: Slot): void {
    this.slots.delete(slot.index);
    this.slots.set(slot.index, slot);
  }

  private unref(slot: Slot): void {
    slot.refs--;
    if (slot.refs === 0) this.enforceBound();
  }

  /**
   * Releases the models beyond the bound: all but the `maxModelsInMemory` most recently used. One that is busy
   * (a batch in flight, or still loading) stays until it is idle: this runs again when its last batch finishes.
   */
  private enforceBound(): void {
    let excess = this.slots.size - this.maxModelsInMemory;
    for (const slot of this.slots.values()) {
      if (excess-- <= 0) return;
      if (slot.refs > 0 || slot.state !== 'loaded') continue;
      this.slots.delete(slot.index);
      this.releaseSlot(slot);
    }
  }

  private releaseSlot(slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    let result: void | PromiseLike<void>;
    try {
      result = this.groups[slot.index]!.handler.releaseModel(slot.model);
    } catch {
      return; // a failed release must not fail the batch that caused the eviction
    }
    if (isThenable(result)) {
      const pending = Promise.resolve(result).then(
        () => undefined,
        () => undefined,
      );
      this.pendingReleases.add(pending);
      void pending.then(() => this.pendingReleases.delete(pending));
    }
  }
}

/**
 * A load result as an Observable, or `undefined` when it is the model itself. Only Observables and thenables are
 * asynchronous: a model that happens to be an array or an iterable is a model (as in the engine).
 */
export function modelAsObservable(result: unknown): Observable<unknown> | undefined {
  if (isObservable(result)) return result;
  if (isThenable(result)) return from(result);
  return undefined;
}
