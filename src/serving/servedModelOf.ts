import type { OnnxModel } from '../handlers/onnx/onnxSession.js';
import type { TfjsModel } from '../handlers/tfjs/TfjsModel.js';
import { toOipDatatype, type OipDatatype } from './oipDatatypes.js';
import type { ServedModel, ServedTensor } from './ServedModel.js';

/** Name and version the routes use. */
export interface ServedModelNames {
  readonly name: string;
  /** @default '1' */
  readonly version?: string;
}

/** A declared dim as the protocol writes it: fixed sizes as they are, anything symbolic or free as -1. */
function dim(d: unknown): number {
  return typeof d === 'number' && Number.isInteger(d) && d >= 0 ? d : -1;
}

function datatype(type: unknown): OipDatatype {
  return (typeof type === 'string' ? toOipDatatype(type) : undefined) ?? 'FP32';
}

interface ValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

function onnxServed(model: OnnxModel, names: ServedModelNames): ServedModel {
  const outputMetadata = (model.session as { outputMetadata?: readonly ValueMetadata[] }).outputMetadata;
  const outputs: ServedTensor[] = model.outputNames.map((name) => {
    const meta = outputMetadata?.find((m) => m.name === name);
    return {
      name,
      datatype: datatype(meta?.type),
      shape: meta?.shape === undefined || meta.shape.length === 0 ? undefined : meta.shape.map(dim),
    };
  });
  return {
    name: names.name,
    version: names.version ?? '1',
    platform: 'onnx_onnxv1',
    inputs: model.inputs.map((input) => ({
      name: input.name,
      datatype: datatype(input.type),
      shape: input.shape?.map(dim),
    })),
    outputs,
    tensorFormat: 'onnx',
  };
}

interface TfjsOutputInfo {
  readonly shape?: readonly (number | null)[];
  readonly dtype?: string;
}

function tfjsServed(model: TfjsModel, names: ServedModelNames): ServedModel {
  const infos = (model.model as unknown as { outputs?: readonly TfjsOutputInfo[] }).outputs ?? [];
  return {
    name: names.name,
    version: names.version ?? '1',
    platform: model.modelType === 'graph' ? 'tensorflowjs_graphmodel' : 'tensorflowjs_layersmodel',
    inputs: model.inputs.map((input) => ({
      name: input.name,
      datatype: datatype(input.dtype ?? 'float32'),
      shape: input.shape === undefined ? undefined : [-1, ...input.shape.map(dim)],
    })),
    outputs: model.outputNames.map((name, k) => ({
      name,
      datatype: datatype(infos[k]?.dtype ?? 'float32'),
      shape: infos[k]?.shape === undefined ? undefined : infos[k].shape!.map(dim),
    })),
    tensorFormat: 'tfjs',
  };
}

function isOnnxModel(model: unknown): model is OnnxModel {
  return model !== null && typeof model === 'object' && 'session' in model && 'outputNames' in model;
}

/**
 * What the Open Inference Protocol server says about a loaded ONNX (`OnnxModelHandler`'s model) or TensorFlow.js
 * (`TfjsModelHandler`'s) model: its inputs and outputs with protocol datatypes and shapes (batch axis first, `-1`
 * where the model leaves a size free) read from the model's own signature.
 */
export function servedModelOf(model: OnnxModel | TfjsModel, names: ServedModelNames): ServedModel {
  return isOnnxModel(model) ? onnxServed(model, names) : tfjsServed(model as TfjsModel, names);
}
