import type { CreatedHandler } from './loadModelSignature.js';
import { awaitModel, PreloadingModelHandler } from './PreloadingModelHandler.js';
import { InterruptedError } from './UsageError.js';

/** The job's handler, its model already loaded, and what the command read from that model. */
export interface JobModel<S> {
  readonly handler: PreloadingModelHandler<any>;
  readonly info: S;
}

/**
 * Loads the job's model before the job starts, with no time bound (`--timeout-ms` bounds batches, not loads), and
 * reads what the command needs from it (`read`: the signature). When the handler that runs the model is the one that
 * reads it (inline ONNX, TF.js), that one load is kept for the job: the model is loaded once. With `--workers` the
 * inline probe is released and the workers load their own. `modelId` is the id the engine will ask for.
 *
 * A signal (`signal` aborted) while loading: the model is released once loaded and an {@link InterruptedError} thrown.
 */
export async function loadJobModel<S>(
  created: CreatedHandler,
  modelId: string | undefined,
  read: (model: unknown) => S,
  signal?: AbortSignal,
): Promise<JobModel<S>> {
  const handler = new PreloadingModelHandler<any>(created.handler);
  const started = performance.now();
  const probe: unknown = await awaitModel(created.probe.loadModel());
  const loadMs = performance.now() - started;
  let info: S;
  try {
    info = read(probe);
  } catch (error) {
    await created.probe.releaseModel(probe);
    throw error;
  }
  if (created.probe === created.handler) {
    handler.adopt(modelId, probe, loadMs);
  } else {
    await created.probe.releaseModel(probe);
    if (signal?.aborted !== true) await handler.preload(modelId);
  }
  // A native load (onnxruntime-node) blocks the event loop: a signal that came meanwhile is dispatched only now.
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (signal?.aborted === true) {
    await handler.releaseUnclaimed();
    throw new InterruptedError('interrupted while the model loaded');
  }
  return { handler, info };
}
