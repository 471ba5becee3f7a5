import type { io } from '@tensorflow/tfjs';
import { describeValue } from '../../core/errors.js';
import { checkFunction, checkKnownKeys, checkNumber, checkObject, checkOneOf } from '../../core/validate.js';
import { resolveAllowNonFinite } from '../../tensors/resolveAllowNonFinite.js';
import type { TfjsModelType } from './TfjsModel.js';
import type { TfjsBackendName, TfjsLogger, TfjsRuntimeImporter } from './tfjsRuntime.js';

/** How results carry the model output: plain arrays (nothing to dispose) or tensors (the caller disposes them). */
export type TfjsOutputMode = 'arrays' | 'tensors';

/** Configuration of a `TfjsModelHandler`. Give exactly one of `modelUri` and `ioHandler`. */
export interface TfjsModelHandlerConfig<O extends TfjsOutputMode = TfjsOutputMode> {
  /**
   * Where the model is: a local `model.json` path (or its directory, or a `file://` URL: read by the handler, no
   * `@tensorflow/tfjs-node` needed), an `http(s)://` URL (TensorFlow.js's loader), or another scheme TensorFlow.js
   * has a loader for. A `modelId` from the side input replaces it on refresh.
   * @default undefined
   */
  readonly modelUri?: string;
  /** A TensorFlow.js `IOHandler` (e.g. `tf.io.fromMemory(artifacts)`) used instead of `modelUri`. @default undefined */
  readonly ioHandler?: io.IOHandler;
  /** `'layers'` for a Keras-style `LayersModel` (`predict`), `'graph'` for a `GraphModel` (`execute`). Required. */
  readonly modelType: TfjsModelType;
  /**
   * The backend to run on. Choosing one (or letting the handler choose) sets the **process-wide** TensorFlow.js
   * backend: TensorFlow.js has one active backend per process.
   * `'webgpu'` (only when named) needs `@tensorflow/tfjs-backend-webgpu` and the npm package `webgpu` (Dawn's Node
   * bindings, prebuilt in the package; the handler gives the process `navigator.gpu` from it) and a WebGPU adapter (a
   * GPU's Vulkan driver, or Mesa 25's lavapipe); its runs hold the process-wide WebGPU lock, as ONNX WebGPU runs do.
   * @default the first installed of `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node` ('tensorflow'),
   * `@tensorflow/tfjs-backend-wasm` ('wasm'), `@tensorflow/tfjs` ('cpu')
   */
  readonly backend?: TfjsBackendName;
  /**
   * `'arrays'`: `inference` is `{ data, shape, dtype }` (views into one downloaded buffer per batch output), so no
   * tensor ever leaks. `'tensors'`: `inference` is a `tf.Tensor` per element that **the caller must dispose**
   * (the handler disposes those of a batch whose subscriber left before it finished; results the operator drops
   * after that, e.g. when unsubscribing between two elements of one batch, are not disposed: prefer `'arrays'`).
   * @default 'arrays'
   */
  readonly outputs?: O;
  /**
   * Accept NaN and ±Infinity in float inputs. By default they are rejected with an `InvalidExampleError` naming the
   * element and the input (inputs given as tensors are not downloaded to check). @default false
   */
  readonly allowNonFinite?: boolean;
  /** @deprecated Use `allowNonFinite` (`checkFinite: false` is `allowNonFinite: true`). Ignored when that is given. */
  readonly checkFinite?: boolean;
  /** Smallest batch size (Beam's `min_batch_size`). @default undefined (the operator's default) */
  readonly minBatchSize?: number;
  /** Largest batch size (Beam's `max_batch_size`). @default undefined (the operator's default) */
  readonly maxBatchSize?: number;
  /** Time bound for a partial batch (Beam's `max_batch_duration_secs`, in ms). @default undefined (none) */
  readonly maxBatchDurationMs?: number;
  /** Receives the backend choice (one `info` line per handler) and skipped broken runtimes (`warn`). @default console */
  readonly logger?: TfjsLogger;
  /**
   * Loads an optional peer package, resolving `undefined` when it is not installed. Replace it to control which
   * runtimes the handler sees. @default dynamic `import()`
   */
  readonly importRuntime?: TfjsRuntimeImporter;
}

export function checkConfig(config: TfjsModelHandlerConfig): void {
  checkObject('config', config);
  checkKnownKeys('the TfjsModelHandler config', config, TFJS_CONFIG_KEYS);
  if (config === undefined) throw new TypeError('Expected a TfjsModelHandlerConfig, got `undefined` (undefined).');
  const { modelUri, ioHandler, modelType, logger } = config;
  if (modelType === undefined) {
    throw new TypeError(`Expected \`modelType\` to be one of 'graph', 'layers', got ${describeValue(modelType)}.`);
  }
  checkOneOf('modelType', modelType, ['graph', 'layers']);
  if (modelUri !== undefined && (typeof modelUri !== 'string' || modelUri === '')) {
    throw new TypeError(`Expected \`modelUri\` to be a non-empty string, got ${describeValue(modelUri)}.`);
  }
  if (ioHandler !== undefined && (ioHandler === null || typeof (ioHandler as { load?: unknown }).load !== 'function')) {
    throw new TypeError(
      `Expected \`ioHandler\` to be an IOHandler with a load() method, got ${describeValue(ioHandler)}.`,
    );
  }
  if ((modelUri === undefined) === (ioHandler === undefined)) {
    throw new TypeError(
      `Expected exactly one of \`modelUri\` and \`ioHandler\`, got ${modelUri === undefined ? 'neither' : 'both'}.`,
    );
  }
  checkOneOf('backend', config.backend, ['tensorflow', 'wasm', 'cpu', 'webgpu']);
  checkOneOf('outputs', config.outputs, ['arrays', 'tensors']);
  resolveAllowNonFinite(config.allowNonFinite, 'checkFinite', config.checkFinite);
  checkNumber('minBatchSize', config.minBatchSize, { min: 1, integer: true });
  checkNumber('maxBatchSize', config.maxBatchSize, { min: 1, integer: true });
  checkNumber('maxBatchDurationMs', config.maxBatchDurationMs, { min: 0, exclusiveMin: true });
  checkFunction('importRuntime', config.importRuntime);
  if (
    logger !== undefined &&
    (logger === null || typeof logger.info !== 'function' || typeof logger.warn !== 'function')
  ) {
    throw new TypeError(`Expected \`logger\` to have info() and warn() methods, got ${describeValue(logger)}.`);
  }
}

/** Every option of `TfjsModelHandlerConfig`, for the unknown-key check (the compiler keeps it complete). */
const TFJS_CONFIG_KEYS = {
  modelUri: true,
  ioHandler: true,
  modelType: true,
  backend: true,
  outputs: true,
  allowNonFinite: true,
  checkFinite: true,
  minBatchSize: true,
  maxBatchSize: true,
  maxBatchDurationMs: true,
  logger: true,
  importRuntime: true,
} as const satisfies Record<keyof TfjsModelHandlerConfig, true>;
