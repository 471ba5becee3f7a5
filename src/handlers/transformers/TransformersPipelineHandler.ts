import { stat } from 'node:fs/promises';
import type { InferenceContext, PredictionResult } from '../../core/types.js';
import { describeValue, InvalidExampleError, MissingRuntimeError, ModelLoadError } from '../../core/errors.js';
import { checkObject, checkOneOf } from '../../core/validate.js';
import { ModelHandler } from '../../models/ModelHandler.js';

/** The pipelines this handler runs. */
export type TransformersTask = 'feature-extraction' | 'text-classification';

/** Configuration of a `TransformersPipelineHandler`. */
export interface TransformersPipelineHandlerConfig {
  /** The pipeline task. */
  readonly task: TransformersTask;
  /**
   * The default model: a LOCAL folder in the Hugging Face layout (`config.json`, `tokenizer.json`,
   * `tokenizer_config.json`, `onnx/model.onnx`). A side-input `modelId` (another folder) overrides it.
   */
  readonly model: string;
  /** Passed to `pipeline(task, model, options)` (e.g. `{ dtype: 'fp32' }`). @default { dtype: 'fp32' } */
  readonly pipelineOptions?: Readonly<Record<string, unknown>>;
  /**
   * Passed to every pipeline call: for feature extraction e.g. `{ pooling: 'mean', normalize: true }`, for text
   * classification e.g. `{ top_k: 2 }`. @default { pooling: 'mean' } for feature extraction, {} otherwise
   */
  readonly callOptions?: Readonly<Record<string, unknown>>;
}

/** A loaded transformers.js pipeline. */
export interface TransformersPipeline {
  (texts: string[], options?: Record<string, unknown>): Promise<unknown>;
  dispose(): Promise<void>;
}

/** One element's label and score (text classification). */
export interface TransformersLabel {
  readonly label: string;
  readonly score: number;
}

/** What an element gets: its embedding (feature extraction) or its labels, most likely first (text classification). */
export type TransformersInference = Float32Array | readonly TransformersLabel[];

interface TransformersModule {
  pipeline(task: string, model: string, options?: object): Promise<TransformersPipeline>;
  env: { allowRemoteModels: boolean };
}

let transformersModule: Promise<TransformersModule> | undefined;

function loadTransformers(): Promise<TransformersModule> {
  transformersModule ??= import('@huggingface/transformers').then(
    (m) => m as unknown as TransformersModule,
    (error: unknown) => {
      transformersModule = undefined;
      throw new MissingRuntimeError('@huggingface/transformers', { cause: error });
    },
  );
  return transformersModule;
}

/**
 * Runs a transformers.js (`@huggingface/transformers`) pipeline — feature extraction (embeddings) or text
 * classification — on batches of strings, from LOCAL model files only.
 *
 * - Loading: `@huggingface/transformers` (an optional peer dependency) is imported on the first `loadModel`, and its
 *   `env.allowRemoteModels` is set to `false` — for the whole process, as transformers.js has one `env` — so nothing
 *   is ever downloaded; `model` must be a folder on disk. A missing folder or a model transformers.js cannot load gives
 *   a `ModelLoadError`. transformers.js runs the model with `onnxruntime-node` (the same install as the ONNX handlers
 *   when the versions match: npm dedupes them).
 * - A batch of strings is ONE pipeline call. Feature extraction (with pooling) gives each element a `Float32Array`
 *   embedding (a copy: the batch's tensor is not kept); text classification gives its labels with scores, the most
 *   likely first. Results are `PredictionResult`s.
 * - `releaseModel` disposes the pipeline (its onnxruntime session).
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { runInference, TransformersPipelineHandler } from 'rxjs-inference';
 *
 * const embed = new TransformersPipelineHandler({ task: 'feature-extraction', model: 'models/all-MiniLM-L6-v2' });
 * from(sentences).pipe(runInference(embed)).subscribe(({ example, inference }) => index(example, inference));
 * ```
 */
export class TransformersPipelineHandler extends ModelHandler<
  string,
  PredictionResult<string, TransformersInference>,
  TransformersPipeline
> {
  private readonly config: Required<TransformersPipelineHandlerConfig>;

  constructor(config: TransformersPipelineHandlerConfig) {
    super();
    checkObject('config', config);
    const { task, model, pipelineOptions = { dtype: 'fp32' } } = config ?? {};
    checkOneOf('task', task, ['feature-extraction', 'text-classification']);
    if (task === undefined) {
      throw new TypeError(
        `Expected \`task\` to be 'feature-extraction' or 'text-classification', got ${describeValue(task)}.`,
      );
    }
    if (typeof model !== 'string' || model === '') {
      throw new TypeError(`Expected \`model\` to be the path of a local model folder, got ${describeValue(model)}.`);
    }
    checkObject('pipelineOptions', pipelineOptions);
    const callOptions = config.callOptions ?? (task === 'feature-extraction' ? { pooling: 'mean' } : {});
    checkObject('callOptions', callOptions);
    this.config = { task, model, pipelineOptions, callOptions };
  }

  override defaultModelId(): string {
    return this.config.model;
  }

  /** Loads `modelId` (a folder) when given, else `model`: local files only. */
  async loadModel(modelId?: string): Promise<TransformersPipeline> {
    const folder = modelId || this.config.model;
    const isDir = await stat(folder).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir)
      throw new ModelLoadError(`Cannot load transformers.js model \`${folder}\`: it is not a folder.`, folder);
    const { pipeline, env } = await loadTransformers();
    env.allowRemoteModels = false;
    try {
      return await pipeline(this.config.task, folder, this.config.pipelineOptions);
    } catch (error) {
      throw new ModelLoadError(
        `Cannot load transformers.js model \`${folder}\` for ${this.config.task}: ${(error as Error).message}`,
        folder,
        { cause: error },
      );
    }
  }

  /** One pipeline call for the batch; each element gets its embedding or its labels. */
  async runInference(
    batch: readonly string[],
    model: TransformersPipeline,
    context: InferenceContext,
  ): Promise<PredictionResult<string, TransformersInference>[]> {
    batch.forEach((text, i) => {
      if (typeof text !== 'string') {
        throw new InvalidExampleError(
          `Element ${i} of the batch is not a string: ${describeValue(text)}.`,
          i,
          undefined,
        );
      }
    });
    const output = await model([...batch], { ...this.config.callOptions });
    const inferences = this.config.task === 'feature-extraction' ? embeddings(output, batch.length) : labels(output);
    return batch.map((example, i) => ({ example, inference: inferences[i], modelId: context.modelId }));
  }

  override releaseModel(model: TransformersPipeline): Promise<void> {
    return model.dispose();
  }
}

/** Splits a `[n, dim]` tensor (pooled features) into one `Float32Array` per element. */
function embeddings(output: unknown, n: number): Float32Array[] {
  const { data, dims } = output as { data: Float32Array; dims: number[] };
  if (dims.length !== 2 || dims[0] !== n) {
    throw new Error(
      `Expected pooled features [${n}, dim] from the pipeline, got [${dims.join(', ')}]: set callOptions.pooling.`,
    );
  }
  const width = dims[1];
  return Array.from({ length: n }, (_, i) => data.slice(i * width, (i + 1) * width));
}

/** Text classification gives one `{ label, score }` per element (or an array of them with `top_k`). */
function labels(output: unknown): (readonly TransformersLabel[])[] {
  return (output as (TransformersLabel | TransformersLabel[])[]).map((r) => (Array.isArray(r) ? r : [r]));
}
