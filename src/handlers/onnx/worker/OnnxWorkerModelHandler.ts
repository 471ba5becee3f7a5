import { createRequire } from 'node:module';
import { resolveAllowNonFinite } from '../../../tensors/resolveAllowNonFinite.js';
import { availableParallelism } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import type { BatchElementsConfig } from '../../../batching/BatchElementsConfig.js';
import type { InferenceContext, PredictionResult } from '../../../core/types.js';
import { checkKnownKeys, checkNumber, checkObject } from '../../../core/validate.js';
import { describeValue, ModelLoadError } from '../../../core/errors.js';
import { PartialOutput } from '../../../core/PartialOutput.js';
import { streamingPromise } from '../../../core/streamingPromise.js';
import { ModelHandler } from '../../../models/ModelHandler.js';
import { ONNX_CONFIG_KEYS, OnnxModelHandler, type OnnxModelHandlerConfig } from '../OnnxModelHandler.js';
import { deviceOfProviders, resolveOrtPath, sessionOptionsFor, type OnnxExecutionDevice } from '../onnxDevice.js';
import type { OnnxModelInfo } from '../onnxSession.js';
import { webGpuLockBuffer } from '../webgpuLock.js';
import type { OnnxExample, OnnxInference } from '../onnxTensors.js';
import { runOnnxBatch } from '../runOnnxBatch.js';
import { defaultWorkerCount } from './defaultWorkerCount.js';
import { intraOpThreadsPerWorker } from './intraOpThreadsPerWorker.js';
import { BATCHES_PER_WORKER, OnnxWorkerPool } from './OnnxWorkerPool.js';
import { WorkerRunError } from './WorkerRunError.js';

/**
 * An `inferenceFn` for the worker threads. Functions cannot be posted to a thread, so each worker loads it itself: it
 * `require`s `module` (or `import()`s it, for an ES module) and takes its export `exportName`; with `options`, that
 * export is a factory called once per worker with them (structured-cloned), e.g.
 * `{ module: 'rxjs-inference', exportName: 'onnxGenerate', options: { maxNewTokens: 20, stopTokenIds: [2] } }`.
 */
export interface OnnxWorkerInferenceFn {
  /**
   * The module: an absolute path, or a specifier resolved (on the main thread, when the model loads) from the working
   * directory, then from the main script. It must be plain JavaScript that Node loads as is (not TypeScript).
   */
  readonly module: string;
  /** The export: an `OnnxInferenceFn`, or a factory of one when `options` is given. @default 'default' */
  readonly exportName?: string;
  /** Passed to the factory export (structured-cloneable: no functions). @default the export is the function itself */
  readonly options?: unknown;
}

/** Configuration of an `OnnxWorkerModelHandler`: the `OnnxModelHandler`'s, plus the pool size. */
export interface OnnxWorkerModelHandlerConfig extends Omit<OnnxModelHandlerConfig, 'inferenceFn'> {
  /**
   * Replaces the one `session.run` per batch, IN the worker (Beam's `inference_fn`): the module the workers load it
   * from (see `OnnxWorkerInferenceFn`). Its partial outputs (`context.emitPartial`) are posted back as they come, and
   * an abort (unsubscribe, timeout) reaches its `context.signal` in the worker. `context.scheduler` is undefined there.
   * @default one `session.run` per batch
   */
  readonly inferenceFn?: OnnxWorkerInferenceFn;
  /**
   * Worker threads, each with its own session of the model. Batches run in parallel only when `runInference` has
   * several in flight (`concurrent`; its default for this handler is two per worker). On WebGPU the runs of all
   * threads are serialized (one WebGPU run at a time per process), so one worker is the default there.
   * @default `min(2, cores)`; with 12 cores or more, one per 4 cores, at most 4 (16 cores: 4); 1 on WebGPU
   *   (`cores` = `os.availableParallelism()`)
   */
  readonly workers?: number;
}

/** A loaded model in worker mode: the pool of sessions and what the handler read from the model's metadata. */
export interface OnnxWorkerModel extends OnnxModelInfo {
  /** The worker threads holding the sessions (terminated by `releaseModel`). */
  readonly pool: OnnxWorkerPool;
}

/**
 * Runs an ONNX model like `OnnxModelHandler`, but in worker threads, so `session.run` never blocks the main
 * thread's event loop.
 *
 * Same examples, checks, errors, batch keys and results as `OnnxModelHandler` (it uses the same stacking, checking
 * and splitting code): the batch is checked and stacked on the main thread, the stacked buffers are TRANSFERRED (not
 * copied) to a worker, which runs its session and transfers the outputs back; they are then split per element as
 * views. `loadModel` returns a pool of `workers` threads, each of which loads the model once; a refreshed model is a
 * new pool, and `releaseModel` terminates a pool's workers after its in-flight batches.
 *
 * - A failing run fails that batch with onnxruntime's message, as inline; a worker that dies fails the batch it was
 *   running and is replaced.
 * - Unsubscribing aborts: a queued batch is dropped, the result of a running one is discarded.
 * - Idle workers never keep the process alive.
 * - Trade-off (measured in docs/performance.md): the main thread stays responsive (p99 event-loop delay of a few ms
 *   instead of a whole batch) and saturated throughput is as good or better, at the cost of one thread hop each
 *   way (about +0.6 ms per batch at low load), a copy of the model per worker, and a start-up per pool. Several
 *   workers only run batches in parallel with `concurrent > 1`.
 * - Threads: each worker's session gets `max(1, floor(cores / workers))` intra-op threads, so workers running at
 *   once never oversubscribe the cores; `sessionOptions.intraOpNumThreads` overrides it.
 * - Pipelining, by default: `runInference` keeps two batches per worker in flight (`concurrency()`), and the pool posts
 *   each worker its next batch while it runs one, so a worker goes from one run to the next without waiting for the
 *   main thread, which meanwhile splits the last results and checks and stacks the next batch. A `concurrent` in the
 *   `runInference` config overrides it.
 *
 * @example
 * import { from } from 'rxjs';
 * import { runInference } from 'rxjs-inference';
 * import { OnnxWorkerModelHandler } from 'rxjs-inference/handlers';
 *
 * const handler = new OnnxWorkerModelHandler({ modelUri: 'model.onnx', workers: 2 });
 * from(examples).pipe(runInference(handler)).subscribe(({ inference }) => console.log(inference)); // 4 batches in flight
 */
export class OnnxWorkerModelHandler<
  E extends OnnxExample = OnnxExample,
  I extends OnnxInference = OnnxInference,
> extends ModelHandler<E, PredictionResult<E, I>, OnnxWorkerModel> {
  /** Loads (and checks) the model on the main thread first: the same errors, metadata and CUDA fallback as inline. */
  private readonly inline: OnnxModelHandler<E, I>;
  private readonly workers: number | undefined;

  constructor(private readonly config: OnnxWorkerModelHandlerConfig) {
    super();
    checkObject('config', config);
    checkKnownKeys('the OnnxWorkerModelHandler config', config, WORKER_CONFIG_KEYS);
    const { inferenceFn } = config ?? {};
    checkObject('inferenceFn', inferenceFn);
    if (inferenceFn !== undefined && (typeof inferenceFn.module !== 'string' || inferenceFn.module === '')) {
      throw new TypeError(
        `Expected \`inferenceFn.module\` to be a module path or name, got ${describeValue(inferenceFn.module)}.`,
      );
    }
    if (inferenceFn?.exportName !== undefined && typeof inferenceFn.exportName !== 'string') {
      throw new TypeError(
        `Expected \`inferenceFn.exportName\` to be a string, got ${describeValue(inferenceFn.exportName)}.`,
      );
    }
    // The main thread only probes the model: a stand-in function tells it that outputs come from an inferenceFn.
    // The inline handler validates the rest of the config (and knows no `workers`).
    // Its batch bound on the CPU follows the intra-op threads of one worker's session (`onnxCpuMaxBatchSize`), so it
    // is told them (its own probe session, which runs nothing, gets them too).
    // (No config at all, from JavaScript, gets the inline handler's error about `modelUri`.)
    const given = config ?? ({} as OnnxWorkerModelHandlerConfig);
    checkNumber('workers', given.workers, { min: 1, integer: true });
    this.workers = given.workers;
    const { workers: _workers, ...inline } = given;
    const threads = intraOpThreadsPerWorker(availableParallelism(), given.workers ?? configuredDefaultWorkers(given));
    this.inline = new OnnxModelHandler<E, I>({
      ...inline,
      // Anything but an object is left as given, for the inline handler's own check to name.
      sessionOptions:
        inline.sessionOptions === undefined ||
        (typeof inline.sessionOptions === 'object' && inline.sessionOptions !== null)
          ? { intraOpNumThreads: threads, ...inline.sessionOptions }
          : inline.sessionOptions,
      inferenceFn: inferenceFn ? probeOnly : undefined,
    });
  }

  /** The configured model path, or `''` when the model was given as bytes. */
  override defaultModelId(): string {
    return this.inline.defaultModelId();
  }

  /** As `OnnxModelHandler`: the configured batching preferences, keyed on every input's dtype and dims. */
  override batchConfig(): BatchElementsConfig<E> {
    return this.inline.batchConfig();
  }

  /**
   * Loads `modelId` (a path) when given, else `modelUri`: checks it on the main thread (then releases that session),
   * and starts `workers` threads that each load it; resolves when all have. When `signal` aborts first (a refresh
   * superseded mid-load), the pool being started is terminated at once — its threads end, none is left behind — and
   * the load rejects with the signal's reason.
   */
  async loadModel(modelId?: string, signal?: AbortSignal): Promise<OnnxWorkerModel> {
    signal?.throwIfAborted();
    const probe = await this.inline.loadModel(modelId);
    const { source, inputs, outputNames, fixedBatchSize, device, ort } = probe;
    await this.inline.releaseModel(probe);
    signal?.throwIfAborted();
    const webgpu = device === 'webgpu';
    const size = this.workers ?? defaultWorkers(device);
    const inferenceFn = this.config.inferenceFn && {
      path: resolveModule(this.config.inferenceFn.module, modelId || this.defaultModelId()),
      exportName: this.config.inferenceFn.exportName ?? 'default',
      options: this.config.inferenceFn.options,
      hasOptions: 'options' in this.config.inferenceFn,
    };
    const pool = new OnnxWorkerPool({
      inferenceFn,
      ortPath: resolveOrtPath(),
      model: modelId || this.config.modelUri,
      source,
      sessionOptions: this.workerSessionOptions(device, size),
      size,
      webGpuLock: webgpu ? webGpuLockBuffer() : undefined,
    });
    const abort = () => void pool.terminate(abortReason(signal));
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await pool.ready;
    } catch (error) {
      await (signal?.aborted ? pool.terminate(abortReason(signal)) : pool.release());
      throw signal?.aborted ? abortReason(signal) : error;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    const names = this.config.outputNames ?? pool.inferenceFnOutputNames ?? outputNames;
    return { pool, source, inputs, outputNames: names, fixedBatchSize, device, ort };
  }

  /** Checks and stacks the batch, runs it on a worker (in runs of the fixed batch size, if any), splits the outputs. */
  runInference(
    batch: readonly E[],
    model: OnnxWorkerModel,
    context: InferenceContext,
  ): Promise<PredictionResult<E, I>[]> {
    const { pool, outputNames } = model;
    const { runOptions, inferenceFn } = this.config;
    const allowNonFinite = resolveAllowNonFinite(this.config.allowNonFinite, 'rejectNaN', this.config.rejectNaN);
    // A worker that died or an aborted batch is not onnxruntime failing on the data: kept as it is.
    const isRunFailure = (error: unknown) => error instanceof WorkerRunError;
    if (inferenceFn === undefined) {
      return runOnnxBatch<E, I>(batch, model, context, allowNonFinite, {
        // Plain {type, data, dims} records cross the thread boundary; their buffers are transferred, not copied, and
        // the outputs come back the same way and are split as they are.
        run: (feeds) => pool.run(feeds, outputNames, runOptions, context.signal),
        isRunFailure,
      });
    }
    const { inferenceArgs, modelId, signal } = context;
    // The returned Promise is also an Observable of the partial outputs the worker's function posts back.
    return streamingPromise((emit) =>
      runOnnxBatch<E, I>(batch, model, context, allowNonFinite, {
        run: (feeds, start) =>
          pool.run(feeds, outputNames, runOptions, signal, {
            inferenceArgs,
            modelId,
            onPartial: (row, value) => {
              if (start + row < batch.length) emit(new PartialOutput(start + row, value));
            },
          }),
        isRunFailure,
      }),
    );
  }

  /**
   * `runInference`'s default `concurrent` for this handler: two batches per worker (`workers`, or its default for the
   * configured device; for `device: 'gpu'` the CPU's), so each worker holds its next batch while it runs one and the
   * main thread checks and stacks the one after. A `concurrent` in the `runInference` config wins.
   */
  override concurrency(): number {
    return BATCHES_PER_WORKER * (this.workers ?? configuredDefaultWorkers(this.config));
  }

  /** Terminates the pool's workers once its in-flight batches are done. */
  override releaseModel(model: OnnxWorkerModel): Promise<void> {
    return model.pool.release();
  }

  /** The session options each worker uses: the user's, with the device the main thread's load settled on. */
  private workerSessionOptions(device: OnnxExecutionDevice, workers: number): InferenceSession.SessionOptions {
    // Each session gets its share of the cores (issue 11): onnxruntime's default (one thread per core in every
    // session) oversubscribed the cores as soon as several workers ran at once — 0.36× / 0.26× of the raw loop with
    // 2 / 4 workers on 16 cores. `sessionOptions.intraOpNumThreads` overrides it.
    const { sessionOptions: given = {}, device: wanted = 'cpu' } = this.config;
    const sessionOptions = {
      intraOpNumThreads: intraOpThreadsPerWorker(availableParallelism(), workers),
      ...given,
    };
    return wanted === 'cpu' ? sessionOptions : sessionOptionsFor(sessionOptions, device);
  }
}

/** The default pool size on a device, for this machine's cores (see `defaultWorkerCount`). */
function defaultWorkers(device: OnnxExecutionDevice): number {
  return defaultWorkerCount(availableParallelism(), device);
}

/**
 * The default pool size for the device a config asks for, before any load: `device`, or with `'cpu'` the WebGPU or
 * CUDA provider its `executionProviders` name; `'gpu'` counts as the CPU (the device it settles on is known only
 * at load). An `executionProviders` that is not an array counts as none here (the constructor calls this before any
 * check of the session options, and must not fail with a TypeError of its own); the load reports it.
 */
function configuredDefaultWorkers({ device = 'cpu', sessionOptions }: OnnxWorkerModelHandlerConfig): number {
  const providers = sessionOptions?.executionProviders;
  const on = device === 'cpu' && Array.isArray(providers) ? deviceOfProviders(providers) : device;
  return defaultWorkers(on === 'webgpu' ? 'webgpu' : 'cpu');
}

/** Why a load was aborted, as an `Error` (the signal's reason when it is one). */
function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('The model load was aborted.');
}

/** Stands in for the worker's inferenceFn on the main thread, which only probes the model (never runs it). */
function probeOnly(): never {
  throw new Error('OnnxWorkerModelHandler: the inferenceFn runs in the workers.');
}

/** The absolute path of an `inferenceFn` module: as given when absolute, else resolved from the cwd, then the main script. */
function resolveModule(module: string, modelId: string): string {
  if (isAbsolute(module)) return module;
  for (const base of [join(process.cwd(), 'index.js'), process.argv[1]]) {
    if (!base) continue;
    try {
      return createRequire(base).resolve(module);
    } catch {
      // Next base.
    }
  }
  throw new ModelLoadError(
    `Cannot find the inferenceFn module \`${module}\` (resolved from ${process.cwd()} and the main script); ` +
      'give an absolute path.',
    modelId,
  );
}

/** Every option of `OnnxWorkerModelHandler`, for the unknown-key check (the compiler keeps it complete). */
const WORKER_CONFIG_KEYS = { ...ONNX_CONFIG_KEYS, workers: true } as const satisfies Record<
  keyof OnnxWorkerModelHandlerConfig,
  true
>;
