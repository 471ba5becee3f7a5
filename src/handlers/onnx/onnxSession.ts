import type * as Ort from 'onnxruntime-node';
import { messageOf, MissingRuntimeError, ModelLoadError } from '../../core/errors.js';
import {
  cudaProviderProblem,
  deviceOfProviders,
  explainWebGpuFailure,
  sessionOptionsFor,
  vulkanLoaderFound,
  webGpuProviderProblem,
  type OnnxDevice,
  type OnnxExecutionDevice,
} from './onnxDevice.js';
import { formatDims } from '../../tensors/dims.js';
import type { OnnxTensorType } from './onnxTensors.js';
import { withWebGpuLock } from './webgpuLock.js';

/** The `onnxruntime-node` module. */
export type OrtModule = typeof Ort;

/** What the handler knows about one model input, from the session's metadata. */
export interface OnnxInputInfo {
  /** Input name. */
  readonly name: string;
  /** Declared element type; `undefined` when the runtime does not expose metadata. */
  readonly type: OnnxTensorType | undefined;
  /** Declared shape including the batch axis (numbers fixed, strings symbolic); `undefined` when unknown. */
  readonly shape: readonly (number | string)[] | undefined;
}

/** What the handlers derive from a loaded model's metadata, wherever its sessions live. */
export interface OnnxModelInfo {
  /** The path (or a label for bytes) it was loaded from. */
  readonly source: string;
  /** Inputs in graph order. */
  readonly inputs: readonly OnnxInputInfo[];
  /** Outputs the handler fetches and splits, in order. */
  readonly outputNames: readonly string[];
  /** A fixed batch size the model declares on its first axis, or `undefined` for a dynamic batch axis. */
  readonly fixedBatchSize: number | undefined;
  /** Where it runs: the requested `device`, or for `'gpu'` the one it settled on (SPEC §8). */
  readonly device: OnnxExecutionDevice;
  /** The runtime module (of the main thread), to build tensors. */
  readonly ort: OrtModule;
}

/** A loaded ONNX model: the session and what the handler derived from its metadata. */
export interface OnnxModel extends OnnxModelInfo {
  /** The onnxruntime session (released by `OnnxModelHandler.releaseModel`). */
  readonly session: Ort.InferenceSession;
}

let ortModule: Promise<OrtModule> | undefined;

/**
 * Loads `onnxruntime-node` on first use (never at import of this library). The dynamic `import()` becomes a
 * `require` in the CommonJS build. A missing install gives `MissingRuntimeError('onnxruntime-node')`.
 */
export function loadOrt(): Promise<OrtModule> {
  ortModule ??= import('onnxruntime-node').then(
    (m) => ((m as { default?: OrtModule }).default?.InferenceSession ? (m as { default: OrtModule }).default : m),
    (error: unknown) => {
      ortModule = undefined;
      throw new MissingRuntimeError('onnxruntime-node', { cause: error });
    },
  );
  return ortModule;
}

/** Options for `createSession`. */
export interface CreateSessionOptions {
  /** The user's session options; the device's execution provider is put first. */
  readonly sessionOptions: Ort.InferenceSession.SessionOptions;
  /**
   * `'gpu'` tries CUDA (when its provider is installed), then WebGPU, then the CPU; `'webgpu'`, `'cuda'` and `'cpu'`
   * that device only. With `'cpu'` the user's `executionProviders` are used as given (one that names `'webgpu'`
   * makes the model a WebGPU one, run under the lock).
   */
  readonly device: OnnxDevice;
  /** Called when `'gpu'` settled below the first device it tried: what was tried, and why each failed. */
  readonly onFallback: (tried: readonly string[], device: OnnxExecutionDevice) => void;
}

/** A created session and the device it runs on. */
export interface CreatedSession {
  readonly session: Ort.InferenceSession;
  readonly device: OnnxExecutionDevice;
}

/**
 * Creates a session from a path or bytes on `device` (SPEC §8). WebGPU sessions are created under the process-wide
 * WebGPU lock. A device that cannot be used gives an `Error` naming what is missing (no Vulkan loader, no adapter, no
 * CUDA provider); with `'gpu'` that is the reason reported through `onFallback`, and only the CPU's own failure (a
 * corrupt model, say) is thrown.
 */
export async function createSession(
  ort: OrtModule,
  model: string | Uint8Array,
  { sessionOptions, device, onFallback }: CreateSessionOptions,
): Promise<CreatedSession> {
  const create = (on: OnnxExecutionDevice, options: Ort.InferenceSession.SessionOptions) => {
    const make = () =>
      typeof model === 'string'
        ? ort.InferenceSession.create(model, options)
        : ort.InferenceSession.create(model, options);
    return on === 'webgpu' ? withWebGpuLock(make) : make();
  };
  const attempt = async (on: 'webgpu' | 'cuda'): Promise<Ort.InferenceSession> => {
    const known = on === 'cuda' ? cudaProviderProblem(ort) : webGpuProviderProblem(ort);
    if (known !== undefined) throw new Error(known);
    try {
      return await create(on, sessionOptionsFor(sessionOptions, on));
    } catch (error) {
      const message = messageOf(error);
      throw new Error(on === 'webgpu' ? explainWebGpuFailure(message, vulkanLoaderFound()) : message.split('\n')[0], {
        cause: error,
      });
    }
  };
  if (device === 'cpu') {
    return {
      session: await create(deviceOfProviders(sessionOptions.executionProviders), sessionOptions),
      device: deviceOfProviders(sessionOptions.executionProviders),
    };
  }
  if (device !== 'gpu') return { session: await attempt(device), device };
  const tried: string[] = [];
  for (const on of ['cuda', 'webgpu'] as const) {
    try {
      const session = await attempt(on);
      if (tried.length > 0) onFallback(tried, on);
      return { session, device: on };
    } catch (error) {
      tried.push(`${on}: ${messageOf(error)}`);
    }
  }
  const session = await create('cpu', sessionOptionsFor(sessionOptions, 'cpu'));
  onFallback(tried, 'cpu');
  return { session, device: 'cpu' };
}

/** Releases a session: under the WebGPU lock when it runs on WebGPU. */
export function releaseSession(session: Ort.InferenceSession, device: OnnxExecutionDevice): Promise<void> {
  return device === 'webgpu' ? withWebGpuLock(() => session.release()) : session.release();
}

/**
 * Reads the inputs' names, types and shapes from the session (`inputMetadata`, onnxruntime ≥ 1.21; older versions
 * give names only and the handler skips the checks it cannot make). Rejects models it cannot feed.
 */
export function describeInputs(session: Ort.InferenceSession, source: string): OnnxInputInfo[] {
  if (session.inputNames.length === 0) {
    throw new ModelLoadError(
      `ONNX model \`${source}\` has no inputs: there is nothing to feed the examples to.`,
      source,
    );
  }
  const metadata = (session as { inputMetadata?: readonly Ort.InferenceSession.ValueMetadata[] }).inputMetadata;
  return session.inputNames.map((name, i) => {
    const meta = metadata?.[i];
    if (meta === undefined) return { name, type: undefined, shape: undefined };
    if (!meta.isTensor) {
      throw new ModelLoadError(
        `ONNX model \`${source}\`: input \`${name}\` is not a tensor (sequence or map inputs are not supported).`,
        source,
      );
    }
    // An empty shape means "not declared" in onnxruntime's metadata: no shape checks then.
    return { name, type: meta.type as OnnxTensorType, shape: meta.shape.length === 0 ? undefined : meta.shape };
  });
}

/** The fixed batch size the inputs declare on their first axis (all must agree), or `undefined` when dynamic. */
export function fixedBatchSizeOf(inputs: readonly OnnxInputInfo[], source: string): number | undefined {
  const fixed = new Set<number>();
  for (const input of inputs) if (typeof input.shape?.[0] === 'number') fixed.add(input.shape[0]);
  if (fixed.size > 1) {
    const shapes = inputs.map((i) => `\`${i.name}\` ${formatDims(i.shape ?? [])}`).join(', ');
    throw new ModelLoadError(`ONNX model \`${source}\` declares different fixed batch sizes: ${shapes}.`, source);
  }
  const [size] = fixed;
  if (size === 0) throw new ModelLoadError(`ONNX model \`${source}\` declares a batch axis of size 0.`, source);
  return size;
}
