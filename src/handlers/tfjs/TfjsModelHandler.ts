import type { io } from '@tensorflow/tfjs';
import { resolveAllowNonFinite } from '../../tensors/resolveAllowNonFinite.js';
import { Observable } from 'rxjs';
import type { BatchElementsConfig } from '../../batching/BatchElementsConfig.js';
import { InferenceError } from '../../core/errors.js';
import type { InferenceContext, PredictionResult } from '../../core/types.js';
import { ModelHandler } from '../../models/ModelHandler.js';
import { withWebGpuLock } from '../onnx/webgpuLock.js';
import { type TfjsModel, loadTfjsModel } from './TfjsModel.js';
import { executeModel } from './tfjsExecute.js';
import { type TfjsExample, type TfjsTypedArray, tfjsBatchKey, tfjsExampleBytes } from './tfjsExamples.js';
import {
  type TfjsInference,
  type TfjsTensorInference,
  disposeTensorInferences,
  splitToArrays,
  splitToTensors,
} from './tfjsOutputs.js';
import { packBatch } from './tfjsPacking.js';
import { checkConfig, type TfjsModelHandlerConfig, type TfjsOutputMode } from './TfjsModelHandlerConfig.js';

export type { TfjsModelHandlerConfig, TfjsOutputMode } from './TfjsModelHandlerConfig.js';
import { type TfjsRuntime, importTfjsPackage, loadTfjsRuntime } from './tfjsRuntime.js';

/** A result of `TfjsModelHandler`: the example, its share of the output, and the id of the model. */
export type TfjsPrediction<O extends TfjsOutputMode = 'arrays'> = PredictionResult<
  TfjsExample,
  O extends 'tensors' ? TfjsTensorInference : TfjsInference
>;

/**
 * Runs a TensorFlow.js model (layers or graph) on batches of tensors (Beam's `TFModelHandlerTensor`).
 *
 * Elements are per-element tensors: a `tf.Tensor`, `{ data, shape }` with a typed array, or nested number arrays
 * (a record of input name → one of those for multi-input models). A batch is packed into one buffer per input and
 * run once (`predict` for layers models, `execute` — or `executeAsync` when the graph needs it — for graph
 * models); each output is split back per element. Elements of different shapes or dtypes never share a batch
 * (`batchConfig().batchKeyFn`); an element that does not fit the model's declared inputs fails its batch with an
 * `InvalidExampleError` naming its position, the input, and what was expected.
 *
 * Memory: every intermediate tensor is disposed, on success and on error; with `outputs: 'arrays'` (the default)
 * results hold no tensor, so `tf.memory().numTensors` is back to its baseline after each batch, and after
 * `releaseModel` (which disposes the model). Input tensors stay the caller's.
 *
 * Runtime: TensorFlow.js is imported lazily, at the first `loadModel`, never when this module is imported. Without
 * `backend` the handler uses the best installed runtime (`@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`,
 * `@tensorflow/tfjs-backend-wasm`, then the pure-JS `cpu` backend of `@tensorflow/tfjs`) and logs its choice once
 * through `logger` (default `console.info`). **The chosen backend becomes the backend of the whole process**
 * (`tf.setBackend`): TensorFlow.js has one active backend per process. Handlers of one process that name different
 * backends switch it back and forth (each load and each batch runs on its model's backend), which works but costs a
 * switch per batch: give them the same backend. A missing package rejects `loadModel` with a `MissingRuntimeError`
 * naming it.
 *
 * @example
 * import { from } from 'rxjs';
 * import { runInference } from 'rxjs-inference';
 * import { TfjsModelHandler } from 'rxjs-inference/handlers';
 *
 * const handler = new TfjsModelHandler({ modelUri: './models/mlp/model.json', modelType: 'layers' });
 * from([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]])
 *   .pipe(runInference(handler))
 *   .subscribe(({ inference }) => console.log(inference));
 */
export class TfjsModelHandler<O extends TfjsOutputMode = 'arrays'> extends ModelHandler<
  TfjsExample,
  TfjsPrediction<O>,
  TfjsModel
> {
  private readonly config: TfjsModelHandlerConfig<O>;
  private runtime: Promise<TfjsRuntime> | undefined;

  /** @param config - where the model is, its type, and optional backend, output mode and batching. */
  constructor(config: TfjsModelHandlerConfig<O>) {
    super();
    checkConfig(config);
    this.config = { ...config };
  }

  /** Loads (once per handler) the runtime and activates its backend for the process. */
  private runtimeFor(): Promise<TfjsRuntime> {
    if (this.runtime === undefined) {
      const { backend, importRuntime = importTfjsPackage, logger = console } = this.config;
      this.runtime = loadTfjsRuntime(backend, importRuntime, logger).then(
        (runtime) => {
          logger.info(
            `TfjsModelHandler: using the TensorFlow.js '${runtime.backend}' backend (${runtime.packageName}); ` +
              'it is now the active backend of the whole process.' +
              (runtime.backend === 'tensorflow' ? '' : ' Install @tensorflow/tfjs-node for native speed.'),
          );
          return runtime;
        },
        (error: unknown) => {
          this.runtime = undefined; // let a later load (e.g. after installing the package) try again
          throw error;
        },
      );
    }
    return this.runtime;
  }

  /** Loads the model named by `modelId` (a path or URL), or the configured `modelUri` / `ioHandler`. */
  async loadModel(modelId?: string): Promise<TfjsModel> {
    const source = modelId ? modelId : (this.config.modelUri ?? (this.config.ioHandler as io.IOHandler));
    const { tf, backend, packageName } = await this.runtimeFor();
    // Another handler may have switched the process-wide backend since: this handler's models load on its own.
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
    const model = await loadTfjsModel(tf, backend, source, this.config.modelType);
    const device = backend === 'webgpu' ? 'webgpu' : packageName === '@tensorflow/tfjs-node-gpu' ? 'cuda' : 'cpu';
    return { ...model, device };
  }

  /**
   * Runs one batch. Returns an Observable: if the subscriber leaves before the batch is done, results are dropped
   * and, with `outputs: 'tensors'`, their tensors disposed.
   */
  runInference(
    batch: readonly TfjsExample[],
    model: TfjsModel,
    context: InferenceContext,
  ): Observable<readonly TfjsPrediction<O>[]> {
    return new Observable<readonly TfjsPrediction<O>[]>((subscriber) => {
      this.runBatch(batch, model).then(
        (inferences) => {
          if (subscriber.closed) {
            if (this.config.outputs === 'tensors') disposeTensorInferences(inferences as TfjsTensorInference[]);
            return;
          }
          const modelId = context.modelId;
          subscriber.next(
            inferences.map((inference, i) => ({ example: batch[i], inference, modelId }) as TfjsPrediction<O>),
          );
          subscriber.complete();
        },
        (error: unknown) => subscriber.error(error),
      );
    });
  }

  private async runBatch(
    batch: readonly TfjsExample[],
    model: TfjsModel,
  ): Promise<readonly (TfjsInference | TfjsTensorInference)[]> {
    const { tf } = model;
    // A model runs on the backend that holds its weights: tfjs refuses kernels whose inputs live on another backend
    // ("internal memory leak ... after running"). Another handler may have switched the process's backend since.
    for (let attempt = 0; tf.getBackend() !== model.backend; attempt++) {
      if (attempt === 3 || !(await tf.setBackend(model.backend))) {
        throw new InferenceError(
          `Cannot switch TensorFlow.js back to the '${model.backend}' backend that holds this model's weights ` +
            `(the process's backend is '${tf.getBackend()}').`,
          batch.length,
        );
      }
    }
    // Validation and packing happen before any tensor exists: a bad element leaks nothing.
    const packed = packBatch(
      batch,
      model.inputs,
      !resolveAllowNonFinite(this.config.allowNonFinite, 'checkFinite', this.config.checkFinite),
      (t) => t.dataSync() as TfjsTypedArray,
    );
    const run = async () => {
      const outputs = await executeModel(tf, model, packed);
      try {
        if (this.config.outputs === 'tensors') return splitToTensors(tf, outputs, model.outputNames, batch.length);
        // The cpu (and native) backends hand out their own storage, which a live tensor may share: copy once.
        return await splitToArrays(outputs, model.outputNames, batch.length, model.backend !== 'wasm');
      } finally {
        tf.dispose(outputs);
      }
    };
    // One WebGPU run at a time per process (SPEC §8), whichever runtime's Dawn it goes through.
    return model.backend === 'webgpu' ? withWebGpuLock(run) : run();
  }

  /** Disposes the model's weights. */
  override releaseModel(model: TfjsModel): void {
    model.model.dispose();
  }

  /** Bytes of the batch's tensors (typed-array bytes, 4 per plain number). */
  override getNumBytes(batch: readonly TfjsExample[]): number {
    let total = 0;
    for (const example of batch) total += tfjsExampleBytes(example);
    return total;
  }

  /** Batches by element shape and dtype (always), plus the configured batch sizes and time bound. */
  override batchConfig(): BatchElementsConfig<TfjsExample> {
    const { minBatchSize, maxBatchSize, maxBatchDurationMs } = this.config;
    return {
      batchKeyFn: tfjsBatchKey,
      ...(minBatchSize !== undefined && { minBatchSize }),
      ...(maxBatchSize !== undefined && { maxBatchSize }),
      ...(maxBatchDurationMs !== undefined && { maxBatchDurationMs }),
    };
  }

  /** The configured `modelUri` (`''` with an `ioHandler`). */
  override defaultModelId(): string {
    return this.config.modelUri ?? '';
  }
}
