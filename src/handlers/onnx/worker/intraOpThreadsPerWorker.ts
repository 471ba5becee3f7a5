/**
 * The intra-op thread count of each worker's session: the cores shared out among the workers, at least one each, so
 * that workers running at once never oversubscribe the machine (`OnnxWorkerModelHandler`'s default; a
 * `sessionOptions.intraOpNumThreads` of the user's wins).
 *
 * @example
 * intraOpThreadsPerWorker(16, 4); // 4
 * intraOpThreadsPerWorker(2, 4); // 1
 */
export function intraOpThreadsPerWorker(cores: number, workers: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}
