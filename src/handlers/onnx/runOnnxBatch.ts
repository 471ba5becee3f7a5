import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { InferenceError } from '../../core/errors.js';
import type { InferenceContext, PredictionResult } from '../../core/types.js';
import { checkNoNaN, checkSameShapes, packRun, readExample } from './packBatch.js';
import { errorMessage, type OnnxModelInfo } from './onnxSession.js';
import { splitRun } from './splitOutputs.js';

/** Where one stacked run executes: a session in this thread, or a worker. */
export interface OnnxRunner {
  /** Runs the stacked feeds, whose row 0 is element `start` of the batch; resolves to the named outputs (batch axis first). */
  run(feeds: Record<string, Tensor>, start: number): Promise<InferenceSession.ReturnType>;
  /** Whether an error from `run` is onnxruntime failing on the batch (wrapped in an `InferenceError`). */
  isRunFailure(error: unknown): boolean;
}

/**
 * The batch path shared by the inline and the worker ONNX handlers: reads and checks every element, stacks the batch
 * into one buffer per input (in runs of the model's fixed batch size, if any), runs each run through `runner`, and
 * splits every output back per element. Only `runner` differs between where the model runs.
 */
export async function runOnnxBatch<E, I>(
  batch: readonly E[],
  model: OnnxModelInfo,
  context: InferenceContext,
  rejectNaN: boolean,
  runner: OnnxRunner,
): Promise<PredictionResult<E, I>[]> {
  if (batch.length === 0) return [];
  const { inputs, outputNames, ort } = model;
  const elements = batch.map((example, position) => readExample(example, inputs, position));
  checkSameShapes(elements, inputs);
  if (rejectNaN) checkNoNaN(elements, inputs);
  const runSize = model.fixedBatchSize ?? batch.length;
  const shares: Tensor[][] = outputNames.map(() => []);
  for (let start = 0; start < batch.length; start += runSize) {
    context.signal.throwIfAborted();
    const end = Math.min(batch.length, start + runSize);
    const feeds = packRun(ort, elements, inputs, start, end, runSize);
    let results: InferenceSession.ReturnType;
    try {
      results = await runner.run(feeds, start);
    } catch (error) {
      if (!runner.isRunFailure(error)) throw error;
      throw new InferenceError(
        `ONNX Runtime failed on a batch of ${batch.length} (rows ${start}–${end - 1}) of \`${model.source}\`: ` +
          errorMessage(error),
        batch.length,
        { cause: error },
      );
    }
    splitRun(ort, results, outputNames, runSize, end - start, shares);
  }
  const single = outputNames.length === 1;
  return batch.map((example, p) => {
    const inference = single ? shares[0][p] : Object.fromEntries(outputNames.map((name, k) => [name, shares[k][p]]));
    return { example, inference: inference as I, modelId: context.modelId };
  });
}
