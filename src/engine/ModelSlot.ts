import { Subscription, type SchedulerLike } from 'rxjs';
import { InferenceTimeoutError, messageOf, ModelLoadError } from '../core/errors.js';
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

/** A load in flight: what it loads, and the subscription that is the slot's hold on it. */
interface Loading {
  readonly id: string;
  readonly update: ModelUpdate;
  readonly subscription: Subscription;
}

/**
 * Owns the model of one `runInference` subscription: loads it lazily, loads a refreshed model beside the current one,
 * switches when it is ready, and releases a model once it is replaced (or the slot is disposed) and its last batch is
 * done. With a `modelIdentifier` the load goes through the process-wide shared registry.
 *
 * One load at a time (#13 items 5 and 8): a request that arrives while a load runs is remembered (the latest wins) and
 * started when that load ends. A load that is superseded while an older model serves is released as soon as it ends,
 * so a storm of refreshes holds at most the serving model and one loading model (a worker handler's threads included).
 * A first load is never thrown away for a later request: whichever model loads serves, and a failed load is reported
 * as a failed refresh while another model serves or is still to be tried. The stream errors only when no model could
 * be loaded and none is left to try.
 */
export class ModelSlot<M> {
  private current: Holder<M> | undefined;
  private loading: Loading | undefined;
  /** The latest model asked for (`undefined`: nothing more to do than what serves or loads now). */
  private wanted: { readonly id: string; readonly update: ModelUpdate } | undefined;
  /** Replaced models whose last batch has not finished yet: released by `finish`, or by `dispose` (#13 item 6). */
  private readonly retired = new Set<Holder<M>>();
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
    this.wanted = { id, update };
    this.next();
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
    loading?.subscription.unsubscribe();
    const current = this.current;
    this.current = undefined;
    if (current !== undefined) {
      current.retired = true;
      this.free(current);
    }
    for (const holder of [...this.retired]) this.free(holder);
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
    const { handler, modelIdentifier, scheduler, timeoutMs, clock } = this.options;
    const startedAt = clock();
    // Beam's model_byte_size: how much the process's memory grew over the load (native runtimes included).
    const memoryBefore = residentBytes();
    const name = Array.isArray(update) ? '' : (update as ModelMetadata).modelName;
    const prefix = name ? `${name}_` : undefined;
    const subscription = new Subscription();
    const loading: Loading = { id, update, subscription };
    this.loading = loading;
    let settled = false;
    let timer: Subscription | undefined;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      timer?.unsubscribe();
      if (this.loading === loading) this.loading = undefined;
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
          const holder: Holder<M> = { model, id, prefix, refs: 0, retired: false, released: false, free };
          if (this.disposed || !this.stillWanted(id)) {
            // Superseded while an older model served: it never serves, and goes at once (#13 item 8).
            holder.retired = true;
            this.free(holder);
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
          this.install(holder);
          this.next();
        },
        error: (error: unknown) => {
          if (!settle()) return;
          subscription.unsubscribe();
          this.ended(error, update, id);
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
        this.ended(error, update, id);
      }, timeoutMs);
      subscription.add(timer);
    }
  }

  /** A load failed: report it (fatal only when no model serves and none is left to try), then go on. */
  private ended(error: unknown, update: ModelUpdate, id: string): void {
    if (this.disposed) return;
    if (this.wanted?.id === id) this.wanted = undefined; // asked again while failing: not retried in a loop
    this.failed(error, update, id);
    this.next();
  }

  private install(holder: Holder<M>): void {
    const old = this.current;
    this.current = holder;
    if (old !== undefined) {
      old.retired = true;
      if (old.refs <= 0) this.free(old);
      else this.retired.add(old);
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

  private free(holder: Holder<M>): void {
    this.retired.delete(holder);
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
