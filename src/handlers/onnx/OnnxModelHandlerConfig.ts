import type { InferenceSession } from 'onnxruntime-node';
import type { BatchElementsConfig } from '../../batching/BatchElementsConfig.js';
import type { OnnxDevice } from './onnxDevice.js';
import type { OnnxInferenceFn } from './OnnxInferenceFn.js';
import type { OnnxExample } from './onnxTensors.js';

/** Configuration of an `OnnxModelHandler`. */
export interface OnnxModelHandlerConfig {
  /** The default model: a path to an `.onnx` file, or the model's bytes. A side-input `modelId` (a path) overrides it. */
  readonly modelUri: string | Uint8Array;
  /** Passed to `InferenceSession.create` as is (threads, graph optimization, execution providers...). @default {} */
  readonly sessionOptions?: InferenceSession.SessionOptions;
  /**
   * Where the model runs (SPEC §8). `'cpu'`: the CPU, or the `executionProviders` of `sessionOptions` as given.
   * `'webgpu'`: onnxruntime's bundled WebGPU execution provider (Dawn over Vulkan on Linux, Metal, D3D12), or a
   * `ModelLoadError` naming what is missing (no Vulkan loader, no adapter). `'cuda'`: the CUDA provider (downloaded by
   * onnxruntime-node's install script), or a `ModelLoadError` (no CUDA provider). `'gpu'`: CUDA when its provider is
   * installed and loads, else WebGPU, else the CPU, with ONE `onWarning` per handler saying what was tried and why it
   * failed. The device a model runs on is `OnnxModel.device`; a refreshed model is loaded on the same device. WebGPU
   * runs, session creations and releases are serialized process-wide (worker threads included): two at once crash
   * onnxruntime. @default 'cpu'
   */
  readonly device?: OnnxDevice;
  /**
   * Outputs to fetch and split, in this order. With an `inferenceFn`, the outputs it returns.
   * @default every output of the model; with an `inferenceFn`, its `outputNames` if it has them
   */
  readonly outputNames?: readonly string[];
  /**
   * Replaces the one `session.run` per batch (Beam's `inference_fn`): called with the session, the stacked feeds and
   * an `OnnxInferenceContext`; returns the outputs to split. Stacking, checking and splitting are unchanged. E.g.
   * `onnxGenerate({...})`, a generation loop whose tokens `streamInference` delivers as they come.
   * @default one `session.run` per batch
   */
  readonly inferenceFn?: OnnxInferenceFn;
  /** Passed to every `session.run`. @default undefined */
  readonly runOptions?: InferenceSession.RunOptions;
  /**
   * Accept NaN and ±Infinity in float inputs (onnxruntime itself accepts them). By default they are rejected with an
   * `InvalidExampleError` naming the element and the input. @default false
   */
  readonly allowNonFinite?: boolean;
  /** @deprecated Use `allowNonFinite` (`rejectNaN: false` is `allowNonFinite: true`). Ignored when that is given. */
  readonly rejectNaN?: boolean;
  /** Receives warnings (the `'gpu'` fallback). @default console.warn */
  readonly onWarning?: (message: string) => void;
  /**
   * Batching preferences (Beam's `batch_elements_kwargs`), overridable per operator. A `batchKeyFn` here is combined
   * with the shape key: elements of different shapes never share a batch. `maxBatchSize` follows the device: on
   * the CPU 128 rows per intra-op thread of the session (`sessionOptions.intraOpNumThreads`, else one per core), at
   * least 512 and at most 2048, where ONNX Runtime's throughput has plateaued (16 threads: 2048); 4096 for `'gpu'`,
   * `'webgpu'` and `'cuda'`, as GPUs keep gaining up to batches of 1024–4096 (SPEC §8). An explicit `maxBatchSize`
   * (here or in the operator's config) wins.
   * @default { maxBatchSize: 512 } up to 4 threads, 1024 with 8, 2048 from 16 ({ maxBatchSize: 4096 } on a GPU device)
   */
  readonly batch?: BatchElementsConfig<OnnxExample>;
}

/** Every option of `OnnxModelHandler`, for the unknown-key check (the compiler keeps it complete). */
export const ONNX_CONFIG_KEYS = {
  modelUri: true,
  sessionOptions: true,
  device: true,
  outputNames: true,
  inferenceFn: true,
  runOptions: true,
  allowNonFinite: true,
  rejectNaN: true,
  onWarning: true,
  batch: true,
} as const satisfies Record<keyof OnnxModelHandlerConfig, true>;
