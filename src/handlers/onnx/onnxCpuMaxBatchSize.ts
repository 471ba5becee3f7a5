/** The smallest default `maxBatchSize` on the CPU: where ONNX Runtime's throughput has plateaued with 1–4 threads. */
export const ONNX_CPU_MAX_BATCH_SIZE = 512;
/** The largest default `maxBatchSize` on the CPU, whatever the thread count. */
const CPU_MAX_BATCH_SIZE_LIMIT = 2048;
/** Rows of a batch per intra-op thread, from which more threads gain from larger batches. */
const ROWS_PER_THREAD = 128;

/**
 * The default `maxBatchSize` of an ONNX model on the CPU for a session of `threads` intra-op threads: 128 rows per
 * thread, at least 512 and at most 2048. onnxruntime splits a batch's rows among its threads, so a session of many
 * threads keeps gaining from larger batches where one of a few has plateaued.
 *
 * Measured (issue 11, MLP 512→1024→1024→10, raw `session.run` at fixed batch sizes, examples/s): 2 cores — 256:
 * 147k, 512: 132k (plateaued, 512 kept); 16 cores, 16 threads, four scans — 512: 182k–236k, 1024: 242k–259k, 2048:
 * 222k–270k (best in three of the four), where the cap of 512 left the library at 0.66× of the raw loop's best and a
 * cap of 1024 at 0.65× (its batches, 768–1024 with Beam's jitter, ran ≈ 15 % slower than the raw loop's 2048).
 *
 * @example
 * onnxCpuMaxBatchSize(2); // 512
 * onnxCpuMaxBatchSize(8); // 1024
 * onnxCpuMaxBatchSize(16); // 2048
 */
export function onnxCpuMaxBatchSize(threads: number): number {
  if (!Number.isFinite(threads)) return ONNX_CPU_MAX_BATCH_SIZE;
  const rows = ROWS_PER_THREAD * Math.max(1, Math.floor(threads));
  return Math.min(CPU_MAX_BATCH_SIZE_LIMIT, Math.max(ONNX_CPU_MAX_BATCH_SIZE, rows));
}
