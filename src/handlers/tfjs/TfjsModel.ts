import type { GraphModel, LayersModel, io } from '@tensorflow/tfjs';
import { ModelLoadError, toError } from '../../core/errors.js';
import type { TfjsInputSpec } from './tfjsExamples.js';
import { fileModelIOHandler, formatOf, isHttpUrl, isLocalPath } from './tfjsModelFiles.js';
import type { TfjsBackendName, TfjsModule } from './tfjsRuntime.js';

/** How a model is stored: a Keras-style `LayersModel` or a converted TensorFlow `GraphModel`. */
export type TfjsModelType = 'graph' | 'layers';

/** A loaded TensorFlow.js model, as `TfjsModelHandler` hands it to the engine. Released with `dispose()`. */
export interface TfjsModel {
  /** The TensorFlow.js model. */
  readonly model: LayersModel | GraphModel;
  readonly modelType: TfjsModelType;
  /** The TensorFlow.js API it was loaded with. */
  readonly tf: TfjsModule;
  /** The backend active when it was loaded (process-wide). */
  readonly backend: TfjsBackendName;
  /**
   * Where it runs, set by `TfjsModelHandler`: `'webgpu'` (the webgpu backend), `'cuda'` (`@tensorflow/tfjs-node-gpu`),
   * else `'cpu'`. Reported as the `model_device_<device>` metric and in the CLI summary.
   */
  readonly device?: 'cpu' | 'webgpu' | 'cuda';
  /** Its inputs, in the order the model takes them. */
  readonly inputs: readonly TfjsInputSpec[];
  /** Its outputs, in the order the model returns them (keys of multi-output results). */
  readonly outputNames: readonly string[];
  /** Where it was loaded from (path, URL, or `''` for an `IOHandler`). */
  readonly modelId: string;
}

/** Graph models that need `executeAsync` (control flow or dynamic-shape ops), found on first run. */
const asyncGraphs = new WeakSet<object>();

/** True once a graph model has been found to need `executeAsync`. */
export function needsAsync(model: TfjsModel): boolean {
  return asyncGraphs.has(model.model);
}

/** Records that a graph model needs `executeAsync`. */
export function markAsync(model: TfjsModel): void {
  asyncGraphs.add(model.model);
}

const weightIds = new WeakMap<object, ReadonlySet<number>>();

/**
 * True when `tensor` is one of a graph model's weights: a graph may return a `Const` node as an output, and the
 * handler must not dispose what the model owns.
 */
export function isWeight(model: TfjsModel, tensor: { readonly id: number }): boolean {
  if (model.modelType !== 'graph') return false;
  let ids = weightIds.get(model.model);
  if (ids === undefined) {
    const set = new Set<number>();
    for (const list of Object.values((model.model as GraphModel).weights)) for (const t of list) set.add(t.id);
    weightIds.set(model.model, (ids = set));
  }
  return ids.has(tensor.id);
}

const FORMATS: Readonly<Record<TfjsModelType, string>> = { layers: 'layers-model', graph: 'graph-model' };

/** The `IOHandler` for a model source: a local path (read here), an http(s) URL, or another registered scheme. */
function ioHandlerFor(tf: TfjsModule, source: string | io.IOHandler): io.IOHandler {
  if (typeof source !== 'string') return source;
  if (isHttpUrl(source)) return tf.io.http(source);
  if (isLocalPath(source)) return fileModelIOHandler(source);
  const handlers = tf.io.getLoadHandlers(source);
  if (handlers.length === 0) throw new Error(`TensorFlow.js has no loader registered for \`${source}\`.`);
  return handlers[0] as io.IOHandler;
}

/** Wraps an `IOHandler` to reject a model of the other type with a clear message (tfjs's own is cryptic). */
function checkingFormat(handler: io.IOHandler, modelType: TfjsModelType): io.IOHandler {
  if (typeof handler.load !== 'function') throw new Error('The IOHandler has no load() method.');
  return {
    load: async () => {
      const artifacts = await (handler.load as () => Promise<io.ModelArtifacts>)();
      const format = formatOf(artifacts);
      if (format !== undefined && format !== FORMATS[modelType]) {
        const other = format === 'graph-model' ? 'graph' : 'layers';
        throw new Error(`It is a ${format}, but the handler has modelType: '${modelType}' (use '${other}').`);
      }
      checkWeightBytes(artifacts);
      return artifacts;
    },
  };
}

const DTYPE_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/**
 * Rejects weight data shorter than the manifest says, before TensorFlow.js decodes it: tfjs would create some
 * weight tensors, then fail, and leak them.
 */
function checkWeightBytes(artifacts: io.ModelArtifacts): void {
  const specs = artifacts.weightSpecs;
  if (specs === undefined || artifacts.weightData === undefined) return;
  let expected = 0;
  for (const spec of specs) {
    if (spec.dtype === 'string') return; // variable length: nothing to check here
    let size = 1;
    for (const d of spec.shape) size *= d;
    expected += size * (DTYPE_BYTES[spec.quantization?.dtype ?? spec.dtype] ?? 4);
  }
  const data = artifacts.weightData as ArrayBuffer | ArrayBuffer[];
  const actual = Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : data.byteLength;
  if (actual < expected) {
    throw new Error(
      `The weights are truncated: the manifest needs ${expected} bytes, the weight files hold ${actual}.`,
    );
  }
}

function layersInputs(model: LayersModel): TfjsInputSpec[] {
  return model.inputs.map((input, k) => ({
    name: model.inputNames[k] ?? input.name,
    shape: input.shape.slice(1),
    dtype: input.dtype,
  }));
}

function graphInputs(model: GraphModel): TfjsInputSpec[] {
  return model.inputs.map((input) => ({
    name: input.name,
    shape: Array.isArray(input.shape) ? input.shape.slice(1).map((d) => (d < 0 ? null : d)) : undefined,
    dtype: input.dtype,
  }));
}

/**
 * Loads a model on the active backend. Failures (missing or corrupt files, wrong type, network) reject with a
 * `ModelLoadError` naming the source, the original kept as `cause`.
 */
export async function loadTfjsModel(
  tf: TfjsModule,
  backend: TfjsBackendName,
  source: string | io.IOHandler,
  modelType: TfjsModelType,
): Promise<TfjsModel> {
  const modelId = typeof source === 'string' ? source : '';
  const where = typeof source === 'string' ? `\`${source}\`` : 'the given IOHandler';
  try {
    const handler = checkingFormat(ioHandlerFor(tf, source), modelType);
    if (modelType === 'layers') {
      const model = await tf.loadLayersModel(handler);
      // A loaded `Sequential` reports no names until it is built: fall back to its symbolic tensors' names.
      const outputNames = model.outputs.map((output, k) => model.outputNames[k] ?? output.name);
      return { model, modelType, tf, backend, inputs: layersInputs(model), outputNames, modelId };
    }
    const model = await tf.loadGraphModel(handler);
    const outputNames = model.outputNodes;
    return { model, modelType, tf, backend, inputs: graphInputs(model), outputNames, modelId };
  } catch (thrown) {
    const error = toError(thrown);
    throw new ModelLoadError(
      `Cannot load the TensorFlow.js ${modelType} model from ${where}: ${error.message}`,
      modelId,
      {
        cause: error,
      },
    );
  }
}
