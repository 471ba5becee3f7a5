import { Subscription, type SchedulerLike } from 'rxjs';
import { InferenceTimeoutError, ModelLoadError } from '../core/errors.js';
import type { ModelMetadata, ModelUpdate } from '../core/types.js';
import type { ModelHandler } from '../models/ModelHandler.js';
import { loadModel$, releaseQuietly } from './loadModel.js';
import { sharedModels } from './SharedModelRegistry.js';

/** A loaded model and the batches running on it. */
export interface LoadedModel<M> {
  readonly model: M;
  /** The id results name (`PredictionResult.modelId`). */
  readonly id: string;
  /** Metrics prefix from the side input's `modelName` (`'<modelName>_'`), if any. */
  readonly prefix: string | undefined;
  /** Batches in flight on this model. */
  refs: number;
}

interface Holder<M> extends LoadedModel<M> {
  retired: boolean;
  released: boolean;
  readonly free: () => void;
}

export interface ModelSlotOptions<M> {
  readonly handler: ModelHandler<any, any, M>;
  readonly scheduler: SchedulerLike;
  readonly clock: () => number;
  readonly timeoutMs: number | undefined;
  readonly modelIdentifier: string | undefined;
  /** A model became current: batches may run. */
  readonly onReady: () => void;
  /** No model could ever be loaded: the stream must error. */
  readonly onFatal: (error: Error) => void;
  /** A refreshed model failed to load while an older one keeps serving. */
  readonly onLoadError: (error: ModelLoadError, update: ModelUpdate) => void;
  /**
   * A load finished, in `clock` milliseconds, growing the process's resident memory by `byteSize` (Beam's measure);
   * `device` is the model's own `device` field when it has one (the ONNX handlers': `'cpu'`, `'webgpu'`, `'cuda'`).
   */
  readonly onLoaded: (
    latencyMs: number,
    byteSize: number | undefined,
    prefix: string | undefined,
    device: string | undefined,
  ) => void;
}

/**
 * Owns the model of one `runInference` subscription: loads it lazily, loads a refreshed model beside the current one,
 * switches when it is ready, and releases a model once it is replaced (or the slot is disposed) and its last batch is
 * done. With a `modelIdentifier` the load goes through the process-wide shared registry.
 */
export class ModelSlot<M> {
  private current: Holder<M> | undefined;
  private pending: { readonly id: string; readonly subscription: Subscription } | undefined;
  private disposed = false;

  constructor(private readonly options: ModelSlotOptions<M>) {}

  /** The model new batches run on, or `undefined` while none is loaded. */
  get model(): LoadedModel<M> | undefined {
    return this.current;
  }

  /** Asks for the model a side-input value names; the latest request wins. */
  request(update: ModelUpdate): void {
    if (this.disposed) return;
    const { handler } = this.options;
    let id: string;
    try {
      id = handler.modelIdFor(update);
    } catch (error) {
      this.failed(error, update, '');
      return;
    }
    if (this.pending?.id === id) return;
    this.cancelPending();
    if (this.current?.id === id) return;
    this.load(update, id);
  }

  /** Marks a batch as running on `model`. */
  retain(model: LoadedModel<M>): void {
    model.refs++;
  }

  /** Marks a batch on `model` as finished; a replaced model is released after its last batch. */
  finish(model: LoadedModel<M>): void {
    const holder = model as Holder<M>;
    holder.refs--;
    if (holder.retired && holder.refs <= 0) this.free(holder);
  }

  /** Releases everything now (completion, error, unsubscribe); later `finish` calls are harmless. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cancelPending();
    const current = this.current;
    this.current = undefined;
    if (current !== undefined) {
      current.retired = true;
      this.free(current);
    }
  }

  private load(update: ModelUpdate, id: string): void {
    const { handler, modelIdentifier, scheduler, timeoutMs, clock } = this.options;
    const startedAt = clock();
    // Beam's model_byte_size: how much the process's memory grew over the load (native runtimes included).
    const memoryBefore = residentBytes();
    const name = Array.isArray(update) ? '' : (update as ModelMetadata).modelName;
    const prefix = name ? `${name}_` : undefined;
    const subscription = new Subscription();
    const pending = { id, subscription };
    this.pending = pending;
    let settled = false;
    let timer: Subscription | undefined;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      timer?.unsubscribe();
      if (this.pending === pending) this.pending = undefined;
      return true;
    };
    const model$ =
      modelIdentifier === undefined
        ? loadModel$(handler, update)
        : sharedModels.acquire(
            `${modelIdentifier}\u0000${id}`,
            () => loadModel$(handler, update),
            (model) => releaseQuietly(handler, model),
          );
    subscription.add(
      model$.subscribe({
        next: (model) => {
          if (!settle()) return;
          // A shared model stays subscribed: that subscription is this slot's reference to it.
          const free =
            modelIdentifier === undefined ? () => releaseQuietly(handler, model) : () => subscription.unsubscribe();
          const grown = memoryBefore === undefined ? undefined : (residentBytes() ?? memoryBefore) - memoryBefore;
          const device = (model as { device?: unknown } | null)?.device;
          this.options.onLoaded(
            clock() - startedAt,
            grown === undefined ? undefined : Math.max(0, grown),
            prefix,
            typeof device === 'string' ? device : undefined,
          );
          this.install({ model, id, prefix, refs: 0, retired: false, released: false, free });
        },
        error: (error: unknown) => {
          if (!settle()) return;
          subscription.unsubscribe();
          this.failed(error, update, id);
        },
      }),
    );
    if (!settled && timeoutMs !== undefined) {
      timer = scheduler.schedule(() => {
        if (!settle()) return;
        subscription.unsubscribe();
        const error = new InferenceTimeoutError(
          `Loading model '${id || '(default)'}' took longer than timeoutMs (${timeoutMs} ms).`,
          timeoutMs,
        );
        this.failed(error, update, id);
      }, timeoutMs);
      subscription.add(timer);
    }
  }

  private install(holder: Holder<M>): void {
    if (this.disposed) {
      this.free(holder);
      return;
    }
    const old = this.current;
    this.current = holder;
    if (old !== undefined) {
      old.retired = true;
      if (old.refs <= 0) this.free(old);
    }
    this.options.onReady();
  }

  private failed(thrown: unknown, update: ModelUpdate, id: string): void {
    if (this.disposed) return;
    const error =
      thrown instanceof ModelLoadError
        ? thrown
        : new ModelLoadError(
            `Failed to load model '${id || '(default)'}': ${thrown instanceof Error ? thrown.message : String(thrown)}`,
            id,
            { cause: thrown },
          );
    if (this.current !== undefined) this.options.onLoadError(error, update);
    else this.options.onFatal(error);
  }

  private cancelPending(): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.subscription.unsubscribe();
  }

  private free(holder: Holder<M>): void {
    if (holder.released) return;
    holder.released = true;
    holder.free();
  }
}

/** Resident set size of the process, where the platform can tell it. */
function residentBytes(): number | undefined {
  const memoryUsage = typeof process === 'object' ? process.memoryUsage : undefined;
  return typeof memoryUsage?.rss === 'function' ? memoryUsage.rss() : undefined;
}
