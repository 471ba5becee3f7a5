import { catchError, concatMap, defer, EMPTY, firstValueFrom, isObservable, map, of, type Observable } from 'rxjs';
import {
  DelegatingModelHandler,
  type ModelHandler,
  type ModelLoadResult,
  type ModelMetadata,
  type ModelUpdate,
} from '../index.js';

/**
 * A handler whose models the command loads itself, before `runInference` asks for them: the engine's load of a
 * preloaded model returns it at once, so `--timeout-ms` (the engine's per-batch bound, which the engine also applies
 * to loads) never bounds a model load, however slow. Each preloaded model is handed out once; a model asked for that
 * was not preloaded is loaded by the wrapped handler as usual. The real load times are kept for the summary.
 */
export class PreloadingModelHandler<M> extends DelegatingModelHandler<any, any, M> {
  private readonly ready = new Map<string, M>();
  private closed = false;
  /** How long each preload took, in milliseconds, in load order. */
  readonly loadTimesMs: number[] = [];

  constructor(base: ModelHandler<any, any, M>) {
    super(base);
  }

  /** Hands over a model already loaded (the one the command read the signature from) for `modelId`. */
  adopt(modelId: string | undefined, model: M, loadMs: number): void {
    this.loadTimesMs.push(loadMs);
    this.keep(modelId ?? '', model);
  }

  /** Loads the model `modelId` names (the handler's default when absent) with no time bound, and keeps it. */
  async preload(modelId?: string): Promise<void> {
    const started = performance.now();
    const model = await awaitModel(this.base.loadModel(modelId));
    this.loadTimesMs.push(performance.now() - started);
    this.keep(modelId ?? '', model);
  }

  /**
   * `--watch`: passes the first update on as it is (its model is preloaded already) and each later one once its model
   * has been preloaded, one load at a time; a model that cannot load is reported to `onError` and never named to the
   * engine, so the model serving keeps serving.
   */
  preloadEach(
    updates: Observable<ModelMetadata>,
    onError: (error: unknown, update: ModelMetadata) => void,
  ): Observable<ModelMetadata> {
    return updates.pipe(
      concatMap((update, index) =>
        index === 0
          ? of(update)
          : defer(() => this.preload(update.modelId)).pipe(
              map(() => update),
              catchError((error: unknown) => {
                onError(error, update);
                return EMPTY;
              }),
            ),
      ),
    );
  }

  private keep(key: string, model: M): void {
    const previous = this.ready.get(key);
    this.ready.set(key, model);
    if (previous !== undefined) void this.releaseQuietly(previous);
    // Loaded after the job ended: nobody will ask for it.
    if (this.closed) void this.releaseUnclaimed();
  }

  override loadModel(modelId?: string): ModelLoadResult<M> {
    const key = modelId ?? '';
    const model = this.ready.get(key);
    if (model === undefined) return this.base.loadModel(modelId);
    this.ready.delete(key);
    return model;
  }

  override loadModelFor(update: ModelUpdate): ModelLoadResult<M> {
    if (Array.isArray(update)) return this.base.loadModelFor(update);
    const id = (update as ModelMetadata).modelId;
    return this.loadModel(id === '' ? this.defaultModelId() || undefined : id);
  }

  /** Releases the preloaded models nobody asked for, now and as later preloads end. */
  async releaseUnclaimed(): Promise<void> {
    this.closed = true;
    const models = [...this.ready.values()];
    this.ready.clear();
    await Promise.all(models.map((model) => this.releaseQuietly(model)));
  }

  private async releaseQuietly(model: M): Promise<void> {
    try {
      await this.base.releaseModel(model);
    } catch {
      // Nothing more can be done for a model that cannot be released; the job carries on.
    }
  }
}

/** The model a handler's `loadModel` gives (as the engine reads it): an Observable's first value, else what it awaits to. */
export async function awaitModel<M>(loaded: ModelLoadResult<M>): Promise<M> {
  return isObservable(loaded) ? firstValueFrom(loaded as Observable<M>) : (loaded as M | PromiseLike<M>);
}
