import { Option } from 'commander';
import type { OnnxDevice } from '../index.js';

/** The values of `--device`. */
export const DEVICES: readonly OnnxDevice[] = ['cpu', 'gpu', 'webgpu', 'cuda'];

/** `--max-batch-size` when not given: 1024 on the CPU; 4096 on a GPU device, as GPUs keep gaining up to 1024–4096. */
export function defaultMaxBatchSize(device: OnnxDevice | undefined): number {
  return device === undefined || device === 'cpu' ? 1024 : 4096;
}

/**
 * The `--device` option of the commands that run an ONNX model (`predict`, `serve`): one definition, so that they
 * accept and describe the same values (SPEC §8).
 */
export function deviceOption(): Option {
  return new Option(
    '--device <device>',
    'ONNX device: cpu; webgpu (bundled WebGPU provider: Vulkan, Metal, D3D12) or cuda (its provider installed), ' +
      'failing when missing; gpu = cuda, else webgpu, else cpu with a warning',
  ).choices(DEVICES);
}
