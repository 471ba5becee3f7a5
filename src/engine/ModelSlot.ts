import { Subscription, type SchedulerLike } from 'rxjs';
import { InferenceTimeoutError, messageOf, ModelLoadError } from '../core/errors.js';
import type { ModelMetadata, ModelUpdate } from '../core/types.js';
import type { ModelHandler } from '../models/ModelHandler.js';
import { ModelHolder, type HeldLoad } from '../models/ModelHolder.js';
import { sharedModels } from './SharedModelRegistry.js';

/** A loaded model and the batches running on it. */
export interface LoadedModel<M> {
  readonly model: M;
  /** The id results name (`PredictionResult.modelId`). */
  readonly id: string;
  /** Metrics prefix from the side input's `modelName` (`'<modelName>_'`), if any. */
  readonly prefix: string | undefined;
}

/** A model this slot loaded: the holder counts its batches and releases it once. */
interface Serving<M> extends LoadedModel<M> {
  readonly holder: ModelHolder<M>;
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

/** A load in flight: what it loads, and how to cancel it. */
interface Loading {
  /** The model it loads (`undefined` once cancelled: it is only waited for then). */
  readonly id: string | undefined;
  /**
   * Ends the load without a word: its signal aborts, nothing is reported, a late model is released. The slot still
   * counts it as loading until the handler's load has really ended, so that loads never overlap.
   */
  readonly cancel: () => void;
}

/**
 * Owns the model of one `runInference` subscription: loads it lazily, loads a refreshed model beside the current one,
 * switches when it is ready, and releases a model once it is replaced (or the slot is disposed) and its last batch is
 * done. Each model is a {@link ModelHolder}; with a `modelIdentifier` the load goes through the process-wide shared
 * registry (then the holder's subscription to the registry is this slot's reference to the shared model).
 *
 * One load at a time, the latest request wins (#13 items 5 and 8): a request that arrives while a refresh loads and
 * an older model serves cancels that load mid-load (the handler's `loadModel` gets an `AbortSignal`; a cancelled load
 * is neither served nor reported as a failure) and starts as soon as the cancelled load has ended (at once for an
 * Observable load; when its Promise settles otherwise — soon for a handler that honours the signal). A first load is never thrown away for a later
 * request: the request waits for it, whichever model loads serves, and a failed load is reported as a failed refresh
 * while another model serves or is still to be tried. The stream errors only when no model could be loaded and none
 * is left to try.
 */
export class ModelSlot<M> {
  private current: Serving<M> | undefined;
  private loading: Loading | undefined;
  /** The latest model asked for (`undefined`: nothing more to do than what serves or loads now). */
  private wanted: { readonly id: string; readonly update: ModelUpdate } | undefined;
  /** Replaced models whose last batch has not finished yet: released by `finish`, or by `dispose` (#13 item 6). */
  private readonly retired = new Set<ModelHolder<M>>();
  private disposed = false;

  constructor(private readonly options: ModelSlotOptions<M>) {}

  /** The model new batches run on, or `undefined` while none is loaded. */
  get model(): LoadedModel<M> | undefined {
    return this.current;
  }

  /** Asks for the model a side-input value names; the latest request wins. */
  request(update: ModelUpdate): void {
    if (this.disposed) return;
    let id: string;
    try {
      id = this.options.handler.modelIdFor(update);
    } catch (error) {
      this.failed(error, update, '');
      return;
    }
    this.wanted = { id, update };
    // A refresh superseded while an older model serves is cancelled mid-load (#13 item 8).
    if (this.current !== undefined && this.loading !== undefined && this.loading.id !== id) this.loading.cancel();
    this.next();
  }

  /** Marks a batch as running on `model`. */
  retain(model: LoadedModel<M>): void {
    (model as Serving<M>).holder.retain();
  }

  /** Marks a batch on `model` as finished; a replaced model is released after its last batch. */
  finish(model: LoadedModel<M>): void {
    const { holder } = model as Serving<M>;
    void holder.unref();
    if (holder.state === 'released') this.retired.delete(holder);
  }

  /**
   * Releases everything now (completion, error, unsubscribe): the current model, every replaced model still finishing
   * a batch (those batches were aborted), and a load in flight. Later `finish` calls are harmless.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.wanted = undefined;
    const loading = this.loading;
    this.loading = undefined;
    loading?.cancel();
    const current = this.current;
    this.current = undefined;
    void current?.holder.release();
    for (const holder of this.retired) void holder.release();
    this.retired.clear();
  }

  /** Starts loading the wanted model when nothing loads and it is not the one serving. */
  private next(): void {
    const wanted = this.wanted;
    if (this.disposed || this.loading !== undefined || wanted === undefined) return;
    this.wanted = undefined;
    if (this.current?.id === wanted.id) return;
    this.load(wanted.update, wanted.id);
  }

  /** Whether a load that just ended is still worth serving: nothing serves yet, or nothing newer is wanted. */
  private stillWanted(id: string): boolean {
    return this.current === undefined || this.wanted === undefined || this.wanted.id === id;
  }

  private load(update: ModelUpdate, id: string): void {
    const { scheduler, timeoutMs, clock } = this.options;
    const startedAt = clock();
    // Beam's model_byte_size: how much the process's memory grew over the load (native runtimes included).
    const memoryBefore = residentBytes();
    const name = Array.isArray(update) ? '' : (update as ModelMetadata).modelName;
    const prefix = name ? `${name}_` : undefined;
    const watching = new Subscription();
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      watching.unsubscribe();
      if (this.loading === loading) this.loading = undefined;
      return true;
    };
    const holder = this.holderFor(update, id);
    const loading: Loading = {
      id,
      cancel: () => {
        if (!settle()) return;
        const ending: Loading = { id: undefined, cancel: () => undefined };
        this.loading = ending;
        void holder.release();
        holder.whenLoadEnds(() => {
          if (this.loading !== ending) return;
          this.loading = undefined;
          this.next();
        });
      },
    };
    this.loading = loading;
    watching.add(
      holder.model$.subscribe({
        next: (model) => {
          if (!settle()) return;
          const serving: Serving<M> = { model, id, prefix, holder };
          if (this.disposed || !this.stillWanted(id)) {
            // Superseded while nothing could cancel it (a first load): it never serves, and goes at once.
            void holder.release();
            this.next();
            return;
          }
          const grown = memoryBefore === undefined ? undefined : (residentBytes() ?? memoryBefore) - memoryBefore;
          const device = (model as { device?: unknown } | null)?.device;
          this.options.onLoaded(
            clock() - startedAt,
            grown === undefined ? undefined : Math.max(0, grown),
            prefix,
            typeof device === 'string' ? device : undefined,
          );
          this.install(serving);
          this.next();
        },
        error: (error: unknown) => {
          if (!settle()) return;
          void holder.release();
          this.ended(error, update, id);
        },
      }),
    );
    if (!settled && timeoutMs !== undefined) {
      watching.add(
        scheduler.schedule(() => {
          if (!settle()) return;
          void holder.release();
          const error = new InferenceTimeoutError(
            `Loading model '${id || '(default)'}' took longer than timeoutMs (${timeoutMs} ms).`,
            timeoutMs,
          );
          this.ended(error, update, id);
        }, timeoutMs),
      );
    }
  }

  /** The holder of the model `update` names: loaded by the handler, or shared through the registry. */
  private holderFor(update: ModelUpdate, id: string): ModelHolder<M> {
    const { handler, modelIdentifier } = this.options;
    const load = (signal: AbortSignal) => handler.loadModelFor(update, signal) as HeldLoad<M>;
    const release = (model: M) => handler.releaseModel(model);
    if (modelIdentifier === undefined) return new ModelHolder<M>(load, release);
    // A shared model stays subscribed: that subscription is this slot's reference to it, and releasing drops it.
    return new ModelHolder<M>(
      () => sharedModels.acquire(`${modelIdentifier}\u0000${id}`, load, release),
      () => undefined,
    );
  }

  /** A load failed: report it (fatal only when no model serves and none is left to try), then go on. */
  private ended(error: unknown, update: ModelUpdate, id: string): void {
    if (this.disposed) return;
    if (this.wanted?.id === id) this.wanted = undefined; // asked again while failing: not retried in a loop
    this.failed(error, update, id);
    this.next();
  }

  private install(serving: Serving<M>): void {
    const old = this.current;
    this.current = serving;
    if (old !== undefined) {
      void old.holder.releaseWhenIdle();
      if (old.holder.state !== 'released') this.retired.add(old.holder);
    }
    this.options.onReady();
  }

  private failed(thrown: unknown, update: ModelUpdate, id: string): void {
    if (this.disposed) return;
    const error =
      thrown instanceof ModelLoadError
        ? thrown
        : new ModelLoadError(`Failed to load model '${id || '(default)'}': ${messageOf(thrown)}`, id, {
            cause: thrown,
          });
    const another = this.wanted !== undefined || this.loading !== undefined;
    if (this.current !== undefined || another) this.options.onLoadError(error, update);
    else this.options.onFatal(error);
  }
}

/** Resident set size of the process, where the platform can tell it. */
function residentBytes(): number | undefined {
  const memoryUsage = typeof process === 'object' ? process.memoryUsage : undefined;
  return typeof memoryUsage?.rss === 'function' ? memoryUsage.rss() : undefined;
}
