import type * as Ort from 'onnxruntime-node';
import { MissingRuntimeError, ModelLoadError } from '../../core/errors.js';
import { formatDims, type OnnxTensorType } from './onnxTensors.js';

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
  /** Where it runs: `'cuda'` when the CUDA execution provider was registered, else `'cpu'`. */
  readonly device: 'cuda' | 'cpu';
  /** The runtime module (of the main thread), to build tensors. */
  readonly ort: OrtModule;
}

/** A loaded ONNX model: the session and what the handler derived from its metadata. */
export interface OnnxModel extends OnnxModelInfo {
  /** The onnxruntime session (released by `OnnxModelHandler.releaseModel`). */
  readonly session: Ort.InferenceSession;
}

/**
 * The message of anything thrown. Not `instanceof Error`: errors from the native addon may come from another realm
 * (jest, vm contexts).
 */
export function errorMessage(thrown: unknown): string {
  const message = (thrown as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(thrown);
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

/** Session options with CUDA first (`device: 'gpu'`), or without CUDA (CPU fallback). */
function withProviders(
  options: Ort.InferenceSession.SessionOptions,
  cuda: boolean,
): Ort.InferenceSession.SessionOptions {
  const isCuda = (ep: unknown) =>
    ep === 'cuda' || (typeof ep === 'object' && (ep as { name?: string })?.name === 'cuda');
  const others = (options.executionProviders ?? []).filter((ep) => !isCuda(ep));
  return { ...options, executionProviders: cuda ? ['cuda', ...others] : others.length > 0 ? others : ['cpu'] };
}

/** Options for `createSession`. */
export interface CreateSessionOptions {
  readonly sessionOptions: Ort.InferenceSession.SessionOptions;
  /** Try the CUDA execution provider first. */
  readonly cuda: boolean;
  /** Called once the CPU fallback succeeded after CUDA failed, with the CUDA error's message. */
  readonly onCudaUnavailable: (message: string) => void;
}

/**
 * Creates a session from a path or bytes. With `cuda`, tries the CUDA execution provider first and, when that fails
 * but the CPU succeeds, reports the CUDA error through `onCudaUnavailable` (the model is fine, CUDA is not).
 */
export async function createSession(
  ort: OrtModule,
  model: string | Uint8Array,
  { sessionOptions, cuda, onCudaUnavailable }: CreateSessionOptions,
): Promise<{ session: Ort.InferenceSession; device: 'cuda' | 'cpu' }> {
  const create = (options: Ort.InferenceSession.SessionOptions) =>
    typeof model === 'string'
      ? ort.InferenceSession.create(model, options)
      : ort.InferenceSession.create(model, options);
  if (cuda) {
    try {
      return { session: await create(withProviders(sessionOptions, true)), device: 'cuda' };
    } catch (cudaError) {
      const session = await create(withProviders(sessionOptions, false));
      onCudaUnavailable(errorMessage(cudaError));
      return { session, device: 'cpu' };
    }
  }
  return { session: await create(sessionOptions), device: 'cpu' };
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
