import { asyncScheduler, Observable, type SchedulerLike } from 'rxjs';
import type { BatchElementsConfig } from '../batching/BatchElementsConfig.js';
import type { InferenceContext, PredictionResult } from '../core/types.js';
import { describeValue } from '../core/errors.js';
import {
  checkBoolean,
  checkFunction,
  checkKnownKeys,
  checkNumber,
  checkObject,
  checkScheduler,
} from '../core/validate.js';
import { ModelHandler } from '../models/ModelHandler.js';
import { PartialOutput } from '../core/PartialOutput.js';

/** Options of `FakeModelHandler`. Only `run` is required. */
export interface FakeModelHandlerConfig<In, Out> {
  /** The "model": called on each element of a batch. Throwing fails the batch. */
  readonly run: (example: In, context: InferenceContext) => Out;
  /** Time each batch takes on the scheduler: a number, or a function of the batch. @default 0 (synchronous) */
  readonly latencyMs?: number | ((batch: readonly In[]) => number);
  /** Time each model load takes: a number, or a function of the model id. @default 0 (synchronous) */
  readonly loadLatencyMs?: number | ((modelId: string) => number);
  /**
   * Scheduler the latencies run on. @default the operator's scheduler for batches (`context.scheduler`),
   * `asyncScheduler` for loads
   */
  readonly scheduler?: SchedulerLike;
  /** Id of the model loaded for `''` / no side input. @default 'fake-model' */
  readonly defaultModelId?: string;
  /** Makes the load of a model id fail (after its latency). @default no load fails */
  readonly failLoad?: (modelId: string) => boolean;
  /** Batching preferences, as a real handler's `batchConfig()`. @default {} */
  readonly batchConfig?: BatchElementsConfig<In>;
  /** Whether a failed batch may be bisected. @default true */
  readonly bisectOnFailure?: boolean;
  /**
   * Makes the fake stream (for `streamInference`): the partial outputs of each element, e.g. its tokens. The batch
   * then runs in steps, each taking `latencyMs`: step k emits the k-th partial output of every element that has one,
   * and the last step also emits the results (`run` of each element). Throwing fails the batch at that step.
   * @default no partial outputs
   */
  readonly stream?: (example: In, context: InferenceContext) => readonly unknown[];
}

/** The fake's "model": which id was loaded, and the how-many-th load it was. */
export interface FakeModel {
  readonly id: string;
  readonly load: number;
}

/**
 * A model handler for marble tests of whole pipelines: `run(example)` is the "model", each batch takes `latencyMs` of
 * time on the scheduler (the TestScheduler in tests), and the handler records `batches`, `loads` and `releases`, so a
 * test can assert batching, ordering, refresh and dead-letter behaviour in virtual time.
 *
 * With `latencyMs: 3`, batches of one element and `run: (x) => x.toUpperCase()`:
 *
 * ```text
 * source:  -a-b-c-|
 * result:  ----A--B--(C|)
 * ```
 *
 * A batch in flight when the subscriber leaves is cancelled (its timer removed) and counted in `aborts`.
 *
 * @example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { runInference } from 'rxjs-inference';
 * import { FakeModelHandler } from 'rxjs-inference/testing';
 *
 * new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable }) => {
 *   const handler = new FakeModelHandler({ run: (x: string) => x.toUpperCase(), latencyMs: 3 });
 *   expectObservable(cold('-a-b-c-|').pipe(runInference(handler))).toBe('----A--B--(C|)', { A: 'A', B: 'B', C: 'C' });
 * });
 * ```
 */
export class FakeModelHandler<In, Out> extends ModelHandler<In, Out, FakeModel> {
  /** Every batch the model ran on, as given. */
  readonly batches: (readonly In[])[] = [];
  /** Every model id loaded, in order. */
  readonly loads: string[] = [];
  /** Every model id released, in order. */
  readonly releases: string[] = [];
  /** Model id of each batch in `batches`. */
  readonly batchModelIds: string[] = [];
  private abortCount = 0;

  constructor(private readonly config: FakeModelHandlerConfig<In, Out>) {
    super();
    checkObject('config', config);
    checkKnownKeys('the FakeModelHandler config', config, FAKE_CONFIG_KEYS);
    checkFunction('run', config.run);
    if (typeof config.run !== 'function')
      throw new TypeError(`Expected \`run\` to be a function, got ${describeValue(config.run)}.`);
    if (typeof config.latencyMs !== 'function') checkNumber('latencyMs', config.latencyMs, { min: 0 });
    if (typeof config.loadLatencyMs !== 'function') checkNumber('loadLatencyMs', config.loadLatencyMs, { min: 0 });
    checkScheduler('scheduler', config.scheduler);
    checkFunction('failLoad', config.failLoad);
    checkBoolean('bisectOnFailure', config.bisectOnFailure);
    checkFunction('stream', config.stream);
  }

  /**
   * A fake shaped like the real handlers: each output is a `PredictionResult` — `{ example, inference, modelId }`,
   * with `inference = run(example)` — so it fits where an `OnnxModelHandler`, `TfjsModelHandler` or
   * `RemoteModelHandler` goes and the postprocessing written for those runs unchanged.
   *
   * @example
   * ```ts
   * const fake = FakeModelHandler.predicting({ run: (x: number) => x * 2, latencyMs: 3 });
   * // emits { example: 1, inference: 2, modelId: 'fake-model' }, ...
   * ```
   */
  static predicting<In, I>(config: FakeModelHandlerConfig<In, I>): FakeModelHandler<In, PredictionResult<In, I>> {
    checkObject('config', config);
    checkFunction('run', config.run);
    if (config.run === undefined)
      throw new TypeError(`Expected \`run\` to be a function, got ${describeValue(config.run)}.`);
    const { run } = config;
    return new FakeModelHandler<In, PredictionResult<In, I>>({
      ...config,
      run: (example, context) => ({ example, inference: run(example, context), modelId: context.modelId }),
    });
  }

  /** Batches whose subscriber left (or that timed out) before they finished. */
  get aborts(): number {
    return this.abortCount;
  }

  /** Sizes of the batches, in order. */
  get batchSizes(): number[] {
    return this.batches.map((b) => b.length);
  }

  override defaultModelId(): string {
    return this.config.defaultModelId ?? 'fake-model';
  }

  override batchConfig(): BatchElementsConfig<In> {
    return this.config.batchConfig ?? {};
  }

  override bisectOnFailure(): boolean {
    return this.config.bisectOnFailure ?? true;
  }

  loadModel(modelId?: string): FakeModel | Observable<FakeModel> {
    const id = modelId ?? this.defaultModelId();
    this.loads.push(id);
    const model: FakeModel = { id, load: this.loads.length };
    const { loadLatencyMs = 0, failLoad } = this.config;
    const latency = typeof loadLatencyMs === 'function' ? loadLatencyMs(id) : loadLatencyMs;
    const fails = failLoad?.(id) ?? false;
    if (latency === 0) {
      if (fails) throw new Error(`FakeModelHandler: loading '${id}' failed (failLoad).`);
      return model;
    }
    const scheduler = this.config.scheduler ?? asyncScheduler;
    return new Observable<FakeModel>((subscriber) =>
      scheduler.schedule(() => {
        if (fails) {
          subscriber.error(new Error(`FakeModelHandler: loading '${id}' failed (failLoad).`));
        } else {
          subscriber.next(model);
          subscriber.complete();
        }
      }, latency),
    );
  }

  runInference(
    batch: readonly In[],
    model: FakeModel,
    context: InferenceContext,
  ): Out[] | Observable<Out[]> | Observable<Out[] | PartialOutput> {
    this.batches.push(batch.slice());
    this.batchModelIds.push(model.id);
    const { latencyMs = 0, run } = this.config;
    const latency = typeof latencyMs === 'function' ? latencyMs(batch) : latencyMs;
    if (this.config.stream !== undefined) return this.streamSteps(batch, context, latency);
    if (latency === 0) return batch.map((x) => run(x, context));
    const scheduler = this.config.scheduler ?? context.scheduler;
    return new Observable<Out[]>((subscriber) => {
      let done = false;
      const action = scheduler.schedule(() => {
        done = true;
        let outputs: Out[];
        try {
          outputs = batch.map((x) => run(x, context));
        } catch (error) {
          subscriber.error(error);
          return;
        }
        subscriber.next(outputs);
        subscriber.complete();
      }, latency);
      return () => {
        if (!done) this.abortCount++;
        action.unsubscribe();
      };
    });
  }

  /** The batch in steps of `latency`: step k emits every element's k-th partial output, the last one the results. */
  private streamSteps(
    batch: readonly In[],
    context: InferenceContext,
    latency: number,
  ): Observable<Out[] | PartialOutput> {
    const { run, stream } = this.config;
    const scheduler = this.config.scheduler ?? context.scheduler;
    return new Observable<Out[] | PartialOutput>((subscriber) => {
      let done = false;
      let parts: (readonly unknown[])[];
      let steps: number;
      const step = (k: number): boolean => {
        try {
          if (k === 0) {
            parts = batch.map((x) => stream!(x, context));
            steps = Math.max(1, ...parts.map((p) => p.length));
          }
          parts.forEach((p, i) => {
            if (k < p.length) subscriber.next(new PartialOutput(i, p[k]));
          });
          if (k + 1 < steps) return false;
          const outputs = batch.map((x) => run(x, context));
          done = true;
          subscriber.next(outputs);
          subscriber.complete();
        } catch (error) {
          done = true;
          subscriber.error(error);
        }
        return true;
      };
      if (latency === 0) {
        for (let k = 0; !step(k); k++);
        return undefined;
      }
      const action = scheduler.schedule<number>(
        function (k = 0) {
          if (!step(k)) this.schedule(k + 1, latency);
        },
        latency,
        0,
      );
      return () => {
        if (!done) this.abortCount++;
        action.unsubscribe();
      };
    });
  }

  override releaseModel(model: FakeModel): void {
    this.releases.push(model.id);
  }
}

/** Every option of `FakeModelHandlerConfig`, for the unknown-key check (the compiler keeps it complete). */
const FAKE_CONFIG_KEYS = {
  run: true,
  latencyMs: true,
  loadLatencyMs: true,
  scheduler: true,
  defaultModelId: true,
  failLoad: true,
  batchConfig: true,
  bisectOnFailure: true,
  stream: true,
} as const satisfies Record<keyof FakeModelHandlerConfig<unknown, unknown>, true>;
