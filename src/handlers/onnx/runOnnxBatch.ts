import { knownUnaborted } from '../../core/batchContext.js';
import { InferenceError, messageOf } from '../../core/errors.js';
import type { InferenceContext, PredictionResult } from '../../core/types.js';
import { checkFinite, checkStackedFinite } from '../../tensors/checkFinite.js';
import { packRun, type PackedTensor } from '../../tensors/packRun.js';
import { readBatch } from '../../tensors/readBatch.js';
import { splitRun, type RunOutput } from '../../tensors/splitRun.js';
import type { TensorBufferPool } from '../../tensors/TensorBufferPool.js';
import type { OnnxModelInfo } from './onnxSession.js';
import type { OnnxTensor } from './onnxTensors.js';

/** Where one stacked run executes: a session in this thread, or a worker. */
export interface OnnxRunner {
  /**
   * Runs the stacked feeds (plain `{ type, data, dims }`), whose row 0 is element `start` of the batch; resolves to
   * the named outputs (batch axis first).
   */
  run(feeds: Record<string, PackedTensor>, start: number): Promise<Readonly<Record<string, RunOutput | undefined>>>;
  /** Whether an error from `run` is onnxruntime failing on the batch (wrapped in an `InferenceError`). */
  isRunFailure(error: unknown): boolean;
  /**
   * Where the stacked inputs come from and go back to once `run` has settled, when nothing reads them after that
   * (onnxruntime in this thread: `session.run` copies its outputs); without one, each run gets new buffers.
   */
  readonly pool?: TensorBufferPool;
}

/**
 * The batch path shared by the inline and the worker ONNX handlers: reads and checks the batch (element 0 in full,
 * the others against it), stacks it into one buffer per input (in runs of the model's fixed batch size, if any), runs
 * each run through `runner`, and splits every output back per element as views. Only `runner` differs between where
 * the model runs.
 */
export async function runOnnxBatch<E, I>(
  batch: readonly E[],
  model: OnnxModelInfo,
  context: InferenceContext,
  allowNonFinite: boolean,
  runner: OnnxRunner,
): Promise<PredictionResult<E, I>[]> {
  if (batch.length === 0) return [];
  const { inputs, outputNames } = model;
  const checked = readBatch(batch, inputs);
  const n = batch.length;
  const runSize = model.fixedBatchSize ?? n;
  const { pool } = runner;
  // With pooled buffers and one run for the whole batch, the batch is stacked first and the NaN/Infinity rule scans
  // the stacked buffer in place (no second copy of the values); otherwise the elements are checked before stacking.
  let stacked: Record<string, PackedTensor> | undefined;
  if (!allowNonFinite && pool !== undefined && runSize >= n) {
    stacked = packRun(checked, inputs, 0, n, runSize, pool);
    try {
      checkStackedFinite(checked, inputs, stacked);
    } catch (error) {
      releaseFeeds(pool, stacked);
      throw error;
    }
  } else if (!allowNonFinite) {
    checkFinite(checked, inputs);
  }
  const shares: OnnxTensor[][] = outputNames.map(() => []);
  for (let start = 0; start < n; start += runSize) {
    // The engine's context is known unaborted without creating its signal (an AbortSignal per batch; issue 11, P3).
    if (!knownUnaborted(context)) {
      if (context.signal.aborted && stacked !== undefined && pool !== undefined) releaseFeeds(pool, stacked);
      context.signal.throwIfAborted();
    }
    const end = Math.min(n, start + runSize);
    const feeds = stacked ?? packRun(checked, inputs, start, end, runSize, pool);
    stacked = undefined;
    let results: Readonly<Record<string, RunOutput | undefined>>;
    try {
      results = await runner.run(feeds, start);
    } catch (error) {
      if (!runner.isRunFailure(error)) throw error;
      throw new InferenceError(
        `ONNX Runtime failed on a batch of ${n} (rows ${start}–${end - 1}) of \`${model.source}\`: ` + messageOf(error),
        n,
        { cause: error },
      );
    } finally {
      // Settled, either way: the stacked inputs are read no more.
      if (pool) releaseFeeds(pool, feeds);
    }
    splitRun(results, outputNames, runSize, end - start, shares);
  }
  const modelId = context.modelId;
  const out = new Array<PredictionResult<E, I>>(n);
  if (outputNames.length === 1) {
    const only = shares[0];
    for (let p = 0; p < n; p++) out[p] = { example: batch[p], inference: only[p] as I, modelId };
  } else {
    for (let p = 0; p < n; p++) {
      const inference: Record<string, OnnxTensor> = {};
      for (let k = 0; k < outputNames.length; k++) inference[outputNames[k]] = shares[k][p];
      out[p] = { example: batch[p], inference: inference as I, modelId };
    }
  }
  return out;
}

/** Gives a settled run's stacked inputs back to `pool`. */
function releaseFeeds(pool: TensorBufferPool, feeds: Record<string, PackedTensor>): void {
  for (const name in feeds) pool.release(feeds[name].type, feeds[name].data);
}
