import { asyncScheduler, isObservable, type Observable, type SchedulerLike } from 'rxjs';
import type { InferenceContext, KeyedModelHandler, ModelHandler } from '../../src/index';
import { modelHandler } from '../../src/index';
import { KeyedModelManager } from '../../src/models/KeyedModelManager';

/** A context for calling `runInference` directly. */
export function context(modelId = '', scheduler: SchedulerLike = asyncScheduler): InferenceContext {
  return { inferenceArgs: undefined, modelId, signal: new AbortController().signal, scheduler };
}

/** A model that adds `offset`, with a log of what happened to it. */
export interface CountingModel {
  readonly name: string;
  readonly offset: number;
}

/** Records loads, releases and inference calls of a counting handler. */
export interface Log {
  readonly loads: string[];
  readonly releases: string[];
  readonly batches: { model: string; modelId: string; batch: readonly number[] }[];
}

export function newLog(): Log {
  return { loads: [], releases: [], batches: [] };
}

/**
 * A synchronous handler whose model named `name` (or the loaded path) computes `fn(x)`; every load, release and
 * batch is logged.
 */
export function countingHandler(
  name: string,
  fn: (x: number) => number,
  log: Log,
): ModelHandler<number, number, CountingModel> {
  return modelHandler<number, number, CountingModel>({
    loadModel: (modelId) => {
      const model = { name: modelId ?? name, offset: 0 };
      log.loads.push(model.name);
      return model;
    },
    runInference: (batch, model, ctx) => {
      log.batches.push({ model: model.name, modelId: ctx.modelId, batch });
      return batch.map(fn);
    },
    releaseModel: (model) => {
      log.releases.push(model.name);
    },
  });
}

/** Subscribes and collects synchronously what an Observable (or array) gives now. */
export function collectNow<T>(result: readonly T[] | Observable<readonly T[]> | unknown): {
  values: (readonly T[])[];
  error: unknown;
  done: boolean;
} {
  const out = { values: [] as (readonly T[])[], error: undefined as unknown, done: false };
  if (!isObservable(result)) throw new Error(`expected an Observable, got ${String(result)}`);
  (result as Observable<readonly T[]>).subscribe({
    next: (v) => out.values.push(v),
    error: (e) => (out.error = e),
    complete: () => (out.done = true),
  });
  return out;
}

/** The model of a multi-model keyed handler: a KeyedModelManager, loaded synchronously. */
export function managerOf<K>(handler: KeyedModelHandler<K, any, any, KeyedModelManager<K>>): KeyedModelManager<K> {
  const manager = handler.loadModel();
  if (!(manager instanceof KeyedModelManager)) throw new Error('expected a KeyedModelManager');
  return manager as KeyedModelManager<K>;
}
