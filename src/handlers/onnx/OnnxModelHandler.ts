import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { BatchElementsConfig } from '../../batching/BatchElementsConfig.js';
import { describeValue, messageOf, ModelLoadError } from '../../core/errors.js';
import type { InferenceContext, PredictionResult } from '../../core/types.js';
import { checkFunction, checkKnownKeys, checkObject, checkOneOf } from '../../core/validate.js';
import { ModelHandler } from '../../models/ModelHandler.js';
import { resolveAllowNonFinite } from '../../tensors/resolveAllowNonFinite.js';
import { tensorBatchKey } from '../../tensors/tensorBatchKey.js';
import { TensorBufferPool } from '../../tensors/TensorBufferPool.js';
import { ONNX_DEVICES, type OnnxExecutionDevice } from './onnxDevice.js';
import {
  createSession,
  describeInputs,
  fixedBatchSizeOf,
  loadOrt,
  releaseSession,
  type OnnxModel,
  type OrtModule,
} from './onnxSession.js';
import type { OnnxExample, OnnxInference } from './onnxTensors.js';
import type { PackedTensor } from '../../tensors/packRun.js';
import { runOnnxBatch } from './runOnnxBatch.js';
import { onnxCpuMaxBatchSize } from './onnxCpuMaxBatchSize.js';
import type { NamedOnnxInferenceFn } from './OnnxInferenceFn.js';
import { PartialOutput } from '../../core/PartialOutput.js';
import { streamingPromise } from '../../core/streamingPromise.js';
import { withWebGpuLock } from './webgpuLock.js';
import { ONNX_CONFIG_KEYS, type OnnxModelHandlerConfig } from './OnnxModelHandlerConfig.js';

export { ONNX_CONFIG_KEYS, type OnnxModelHandlerConfig } from './OnnxModelHandlerConfig.js';

export { ONNX_CPU_MAX_BATCH_SIZE } from './onnxCpuMaxBatchSize.js';
/** The default `maxBatchSize` on a GPU device: WebGPU on an H200 gained up to batches of 1024–4096 (SPEC §8). */
export const ONNX_GPU_MAX_BATCH_SIZE = 4096;

/**
 * Runs an ONNX model with `onnxruntime-node` (Beam's `OnnxModelHandlerNumpy`).
 *
 * Each example is one element's input without the batch axis: an `ort.Tensor`, a `TensorLike` (`{ data, dims }`),
 * a bare typed array (single-input models whose per-element shape is 1-D or fixed), or a record input name → one of
 * those. A batch is stacked into one contiguous buffer per input (allocated once, each element `set()` at its
 * offset) with the batch axis prepended, run once, and EVERY output is split back along its first axis. Each result
 * is a `PredictionResult` whose `inference` is the element's tensor (one output) or a record output name → tensor
 * (several outputs); `modelId` names the model it ran on.
 *
 * - dtypes: float32, float64, float16 (`Uint16Array`), int8/16/32/64 (`BigInt64Array`), uint8/16/32/64, bool
 *   (`Uint8Array` of 0/1; a plain `Uint8Array` fits a bool input) and string (`string[]`, copied, not viewed).
 * - Results are plain `OnnxTensor` views `{ type, data, dims, size }` (not `ort.Tensor`s: constructing one per element
 *   was the split's main cost): `data` is a `subarray` of the run's output buffer (no copy), so copy it
 *   (`data.slice()`) before mutating it or to let the rest of the batch's buffer be collected.
 * - The first axis of every input and output is the batch axis. A model whose batch axis is FIXED (e.g. 4) gets runs
 *   of exactly that size: a bigger batch is split, the last run zero-padded, padding results dropped.
 * - Elements are checked against the model's declared inputs (`session.inputMetadata`) before the run: a wrong
 *   dtype, rank or fixed dim, a missing or unknown input name fails the batch with an `InvalidExampleError` naming
 *   the element's position, the input, what was expected and what was given. NaN and ±Infinity in float inputs
 *   are rejected unless `allowNonFinite` is set.
 * - `batchConfig().batchKeyFn` keys by every input's dtype and dims, so different shapes go to different batches.
 * - `onnxruntime-node` is imported on the first `loadModel`, never when this library is imported; a missing install
 *   gives `MissingRuntimeError('onnxruntime-node')`. A missing file, corrupt bytes or a model without inputs give a
 *   `ModelLoadError` naming the model and the cause. `releaseModel` releases the session.
 * - `session.run` does its native work on the main thread: the event loop stalls for each run, and several runs in
 *   flight (`concurrent > 1`) give no speed-up.
 *
 * @typeParam E - the example type this handler is used with. @default OnnxExample
 * @typeParam I - the inference type: `OnnxTensor` for one output, a record for several. @default OnnxInference
 *
 * @example
 * import { from } from 'rxjs';
 * import { runInference } from 'rxjs-inference';
 * import { OnnxModelHandler, type OnnxTensor } from 'rxjs-inference/handlers';
 *
 * // Type parameters: the example type, and the inference type (one output → `OnnxTensor`).
 * const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: 'model.onnx' });
 * from([Float32Array.of(0.1, 0.2), Float32Array.of(0.3, 0.4)])
 *   .pipe(runInference(handler))
 *   .subscribe(({ inference }) => console.log(inference.dims, inference.data));
 */
export class OnnxModelHandler<
  E extends OnnxExample = OnnxExample,
  I extends OnnxInference = OnnxInference,
> extends ModelHandler<E, PredictionResult<E, I>, OnnxModel> {
  private readonly config: Required<
    Omit<OnnxModelHandlerConfig, 'outputNames' | 'runOptions' | 'inferenceFn' | 'rejectNaN'>
  > &
    Pick<OnnxModelHandlerConfig, 'outputNames' | 'runOptions' | 'inferenceFn'>;
  /** The device `'gpu'` settled on at the first load: later loads (refreshes) go straight to it, without warning. */
  private resolvedDevice: OnnxExecutionDevice | undefined;
  /**
   * Each loaded model's batch input buffers, reused from run to run (`session.run` reads its inputs only while it
   * runs and copies its outputs); dropped by `releaseModel`. Not used with an `inferenceFn`, which may keep its feeds.
   */
  private readonly inputBuffers = new WeakMap<OnnxModel, TensorBufferPool>();

  constructor(config: OnnxModelHandlerConfig) {
    super();
    checkObject('config', config);
    checkKnownKeys('the OnnxModelHandler config', config, ONNX_CONFIG_KEYS);
    const {
      modelUri,
      device = 'cpu',
      sessionOptions = {},
      outputNames,
      runOptions,
      rejectNaN,
      allowNonFinite,
    } = config ?? {};
    const { onWarning = (message: string) => console.warn(message), batch = {}, inferenceFn } = config ?? {};
    if (!(typeof modelUri === 'string' && modelUri !== '') && !(modelUri instanceof Uint8Array)) {
      throw new TypeError(
        `Expected \`modelUri\` to be a file path or the model's bytes (Uint8Array), got ${describeValue(modelUri)}.`,
      );
    }
    checkOneOf('device', device, ONNX_DEVICES);
    checkObject('sessionOptions', sessionOptions);
    checkObject('runOptions', runOptions);
    checkFunction('onWarning', onWarning);
    checkObject('batch', batch);
    checkFunction('inferenceFn', inferenceFn);
    if (
      outputNames !== undefined &&
      (!Array.isArray(outputNames) ||
        outputNames.length === 0 ||
        outputNames.some((n) => typeof n !== 'string' || n === '') ||
        new Set(outputNames).size !== outputNames.length)
    ) {
      throw new TypeError(
        `Expected \`outputNames\` to be a non-empty array of distinct output names, got ${describeValue(outputNames)}.`,
      );
    }
    this.config = {
      modelUri,
      device,
      sessionOptions,
      outputNames,
      runOptions,
      allowNonFinite: resolveAllowNonFinite(allowNonFinite, 'rejectNaN', rejectNaN),
      onWarning,
      batch,
      inferenceFn,
    };
  }

  /** The configured model path, or `''` when the model was given as bytes. */
  override defaultModelId(): string {
    return typeof this.config.modelUri === 'string' ? this.config.modelUri : '';
  }

  /**
   * The batch's size in bytes for the metrics, counted as the default estimate counts it; a batch of bare typed arrays
   * (the common single-input form) is summed directly, without the generic walk per element.
   */
  override getNumBytes(batch: readonly E[]): number {
    let total = 0;
    for (let i = 0; i < batch.length; i++) {
      const example = batch[i];
      if (!ArrayBuffer.isView(example)) return super.getNumBytes(batch);
      total += example.byteLength;
    }
    return total;
  }

  /** The configured batching preferences, with a key on every input's dtype and dims. */
  override batchConfig(): BatchElementsConfig<E> {
    const { batchKeyFn: userKey, ...rest } = this.config.batch;
    // ONNX Runtime's CPU throughput plateaus by batches of 128–512 with a few threads, and 2048 with 16 (bench
    // P1, group fast); Beam's default bound of 10,000 only adds latency and memory there, and the estimator did grow
    // batches to thousands. GPUs keep gaining up to 1024–4096 (WebGPU on an H200, SPEC §8). Read before the model
    // loads, so it follows the requested device and the session's intra-op threads (onnxruntime's default, 0, is one
    // per core); a `batch` option overrides it.
    const threads = this.config.sessionOptions?.intraOpNumThreads || availableParallelism();
    const bound = this.config.device === 'cpu' ? onnxCpuMaxBatchSize(threads) : ONNX_GPU_MAX_BATCH_SIZE;
    const maxBatchSize =
      rest.maxBatchSize ?? (rest.minBatchSize === undefined || rest.minBatchSize <= bound ? bound : undefined);
    return {
      maxBatchSize,
      ...rest,
      batchKeyFn: userKey ? (e: E) => `${String(tensorBatchKey(e))}|${String(userKey(e))}` : tensorBatchKey,
    } as BatchElementsConfig<E>;
  }

  /** Loads `modelId` (a path) when given, else `modelUri`; imports `onnxruntime-node` on first use. */
  async loadModel(modelId?: string): Promise<OnnxModel> {
    const target = modelId || this.config.modelUri;
    const source = typeof target === 'string' ? target : `<${target.byteLength} bytes>`;
    const id = typeof target === 'string' ? target : '';
    const ort: OrtModule = await loadOrt();
    if (typeof target === 'string') {
      const problem = await stat(target).then(
        (s) => (s.isFile() ? undefined : 'it is not a file'),
        (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? 'the file does not exist' : e.message),
      );
      if (problem) throw new ModelLoadError(`Cannot load ONNX model \`${source}\`: ${problem}.`, id);
    }
    let created: Awaited<ReturnType<typeof createSession>>;
    try {
      created = await createSession(ort, target, {
        sessionOptions: this.config.sessionOptions,
        device: this.resolvedDevice ?? this.config.device,
        onFallback: (tried, device) =>
          this.config.onWarning(
            `OnnxModelHandler: device 'gpu' requested; running on ${device === 'cpu' ? 'the CPU' : device} ` +
              `(tried ${tried.join('; ')}).`,
          ),
      });
    } catch (error) {
      const on = this.resolvedDevice ?? this.config.device;
      const where = on === 'webgpu' || on === 'cuda' ? ` on device '${on}'` : '';
      throw new ModelLoadError(`Cannot load ONNX model \`${source}\`${where}: ${messageOf(error)}`, id, {
        cause: error,
      });
    }
    const { session, device } = created;
    if (this.config.device === 'gpu') this.resolvedDevice ??= device;
    try {
      const inputs = describeInputs(session, source);
      const { inferenceFn } = this.config;
      const outputNames =
        this.config.outputNames ??
        (inferenceFn as NamedOnnxInferenceFn | undefined)?.outputNames ??
        session.outputNames;
      // An inferenceFn returns outputs of its own (e.g. generated tokens): only a plain run must name model outputs.
      const unknown = inferenceFn ? [] : outputNames.filter((n) => !session.outputNames.includes(n));
      if (unknown.length > 0) {
        throw new ModelLoadError(
          `ONNX model \`${source}\` has no output ${unknown.map((n) => `\`${n}\``).join(', ')} ` +
            `(its outputs: ${session.outputNames.map((n) => `\`${n}\``).join(', ')}).`,
          id,
        );
      }
      return { session, source, inputs, outputNames, fixedBatchSize: fixedBatchSizeOf(inputs, source), device, ort };
    } catch (error) {
      await releaseSession(session, device);
      throw error;
    }
  }

  /**
   * Stacks the batch, runs it (in runs of the fixed batch size, if any) and splits every output per element. With an
   * `inferenceFn`, the returned Promise is also an Observable of the partial outputs it emits (see `streamInference`).
   */
  runInference(batch: readonly E[], model: OnnxModel, context: InferenceContext): Promise<PredictionResult<E, I>[]> {
    const { session, outputNames, ort, device } = model;
    const { runOptions, inferenceFn, allowNonFinite } = this.config;
    // On WebGPU each run (or the whole inferenceFn call, a generation loop of runs) holds the process-wide lock.
    const locked = <T>(fn: () => Promise<T>): Promise<T> => (device === 'webgpu' ? withWebGpuLock(fn) : fn());
    const toFeeds = (packed: Record<string, PackedTensor>): Record<string, Tensor> => {
      const feeds: Record<string, Tensor> = {};
      for (const name in packed) {
        const { type, data, dims } = packed[name];
        feeds[name] = new ort.Tensor(type as 'float32', data as Float32Array, dims);
      }
      return feeds;
    };
    if (inferenceFn === undefined) {
      const run = (feeds: Record<string, Tensor>) =>
        runOptions ? session.run(feeds, outputNames, runOptions) : session.run(feeds, outputNames);
      let pool = this.inputBuffers.get(model);
      // Without the NaN/Infinity check nothing scans the batch, so it needs no WebAssembly memory of its own.
      const scannableFloats = !allowNonFinite;
      if (pool === undefined) this.inputBuffers.set(model, (pool = new TensorBufferPool(2, { scannableFloats })));
      return runOnnxBatch<E, I>(batch, model, context, allowNonFinite, {
        run: device === 'webgpu' ? (packed) => locked(() => run(toFeeds(packed))) : (packed) => run(toFeeds(packed)),
        isRunFailure: () => true,
        pool,
      });
    }
    return streamingPromise((emit) =>
      runOnnxBatch<E, I>(batch, model, context, allowNonFinite, {
        run: async (packed, start) =>
          (await locked(async () =>
            inferenceFn(session, toFeeds(packed), {
              ...context,
              ort,
              runOptions,
              outputNames,
              // Rows past the batch are the padding of a fixed-batch-size model: their outputs are dropped.
              emitPartial: (row, value) => {
                if (start + row < batch.length) emit(new PartialOutput(start + row, value));
              },
            }),
          )) as InferenceSession.ReturnType,
        isRunFailure: () => true,
      }),
    );
  }

  /** Releases the session's native memory (under the WebGPU lock for a WebGPU model). */
  override releaseModel(model: OnnxModel): Promise<void> {
    this.inputBuffers.get(model)?.clear();
    this.inputBuffers.delete(model);
    return releaseSession(model.session, model.device);
  }
}
