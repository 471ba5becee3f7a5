/** The smallest default `maxBatchSize` on the CPU: where ONNX Runtime's throughput has plateaued with 1–8 threads. */
export const ONNX_CPU_MAX_BATCH_SIZE = 512;
/** The largest default `maxBatchSize` on the CPU, whatever the thread count. */
const CPU_MAX_BATCH_SIZE_LIMIT = 2048;
/** Rows of a batch per intra-op thread, from which more threads gain from larger batches. */
const ROWS_PER_THREAD = 64;

/**
 * The default `maxBatchSize` of an ONNX model on the CPU for a session of `threads` intra-op threads: 64 rows per
 * thread, at least 512 and at most 2048. onnxruntime splits a batch's rows among its threads, so a session of many
 * threads keeps gaining from larger batches where one of a few has plateaued.
 *
 * Measured (issue 11, MLP 512→1024→1024→10, raw `session.run` at fixed batch sizes, examples/s): 2 cores — 256:
 * 147k, 512: 132k (plateaued, 512 kept); 16 cores, 16 threads — 512: 182k–213k, 1024: 243k–257k, 2048: 222k–254k
 * (two runs), where the cap of 512 left the library at 0.66× of the raw loop's best.
 *
 * @example
 * onnxCpuMaxBatchSize(2); // 512
 * onnxCpuMaxBatchSize(16); // 1024
 * onnxCpuMaxBatchSize(64); // 2048
 */
export function onnxCpuMaxBatchSize(threads: number): number {
  if (!Number.isFinite(threads)) return ONNX_CPU_MAX_BATCH_SIZE;
  const rows = ROWS_PER_THREAD * Math.max(1, Math.floor(threads));
  return Math.min(CPU_MAX_BATCH_SIZE_LIMIT, Math.max(ONNX_CPU_MAX_BATCH_SIZE, rows));
}
