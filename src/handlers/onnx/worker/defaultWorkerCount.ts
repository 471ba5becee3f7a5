import type { OnnxExecutionDevice } from '../onnxDevice.js';

/**
 * `OnnxWorkerModelHandler`'s default pool size: on WebGPU one worker (every WebGPU run in the process is serialized
 * anyway); on the CPU `min(2, cores)` workers, and on machines of 12 cores or more one per 4 cores, at most 4 (each
 * holds a copy of the model). Each worker's session gets `floor(cores / workers)` intra-op threads.
 *
 * Why (issue 11, 16-core Xeon, MLP 512→1024→1024→10, batches up to 512): 4 workers × 4 threads ran 0.64× of the raw
 * loop where 2 × 8 ran 0.48× and 1 × 16 0.40× (one batch more in flight than workers each); onnxruntime's intra-op
 * threads scale poorly past a few per session at these batch sizes. On 2 cores, 2 workers × 1 thread beat 1 × 2.
 *
 * @example
 * defaultWorkerCount(16, 'cpu'); // 4
 * defaultWorkerCount(8, 'cpu'); // 2
 * defaultWorkerCount(16, 'webgpu'); // 1
 */
export function defaultWorkerCount(cores: number, device: OnnxExecutionDevice): number {
  if (device === 'webgpu') return 1;
  const small = Math.min(2, Math.max(1, cores));
  return cores >= 12 ? Math.max(small, Math.min(4, Math.floor(cores / 4))) : small;
}
