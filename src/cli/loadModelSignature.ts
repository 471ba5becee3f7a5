import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import {
  OnnxModelHandler,
  OnnxWorkerModelHandler,
  TfjsModelHandler,
  type ModelHandler,
  type OnnxDevice,
  type OnnxModel,
  type OnnxModelHandlerConfig,
  type TfjsBackendName,
  type TfjsModel,
  type TfjsModelType,
} from '../handlers/index.js';
import type { CliDType, InputSignature } from './jsonTensor.js';
import { UsageError } from './UsageError.js';

/** Which runtime runs the model. */
export type ModelRuntime = 'onnx' | 'tfjs';

/** What the command needs to know about a model to feed it JSON and print its outputs. */
export interface ModelSignature {
  readonly runtime: ModelRuntime;
  readonly inputs: readonly InputSignature[];
  readonly outputNames: readonly string[];
}

/** Options that choose and configure the handler. */
export interface HandlerOptions {
  readonly model: string;
  readonly runtime?: ModelRuntime;
  readonly modelType?: TfjsModelType;
  readonly backend?: TfjsBackendName;
  readonly device?: OnnxDevice;
  /** ONNX only: worker threads (`OnnxWorkerModelHandler`); inline when absent. */
  readonly workers?: number;
  /**
   * ONNX only: `intraOpNumThreads` of each session, the inline one or each worker's. Absent: onnxruntime's default
   * inline (one thread per core), the worker handler's `cores ÷ workers` with workers.
   */
  readonly threads?: number;
  /** Where warnings and (verbose) information go. */
  readonly log: (message: string) => void;
  readonly verbose: boolean;
}

const ONNX_TYPES: readonly string[] = [
  'float32',
  'float64',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
];

/**
 * The command's inline ONNX session: its intra-op threads wait for work blocked, not spinning
 * (`session.intra_op.allow_spinning = 0`). Between two runs the command reads, parses and writes on the main thread,
 * and that is when onnxruntime's idle threads would spin: on a machine whose cores are all busy they take the CPU the
 * main thread and the garbage collector need (issue 11: 200,000 records through a small MLP on 2 shared cores took
 * ≈ 10–30 % longer with spinning, and a 512→1024→1024→10 MLP was not faster with it either). Worker threads (`--workers`)
 * keep their handler's own settings.
 */
export const CLI_ONNX_SESSION_OPTIONS: NonNullable<OnnxModelHandlerConfig['sessionOptions']> = {
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

/** `model.json` or a directory → TF.js; anything else → ONNX. */
export async function detectRuntime(model: string): Promise<ModelRuntime> {
  if (extname(model).toLowerCase() === '.json') return 'tfjs';
  const info = await stat(model).catch(() => undefined);
  return info?.isDirectory() ? 'tfjs' : 'onnx';
}

/** Reads `format` from a TF.js `model.json` ('graph-model' → graph, else layers). */
async function detectModelType(model: string): Promise<TfjsModelType> {
  const info = await stat(model).catch(() => undefined);
  const path = info?.isDirectory() ? join(model, 'model.json') : model;
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as { format?: unknown; modelTopology?: { node?: unknown } };
    if (json.format === 'graph-model' || (json.format === undefined && Array.isArray(json.modelTopology?.node))) {
      return 'graph';
    }
  } catch {
    // Unreadable or not JSON: the handler's load reports it with its own clear message.
  }
  return 'layers';
}

/** The handler that runs the model, and one to read its signature with (the same, or an inline one for workers). */
export interface CreatedHandler {
  readonly handler: ModelHandler<any, any, any>;
  readonly probe: ModelHandler<any, any, any>;
  readonly runtime: ModelRuntime;
}

/** Creates the handler for the model: `OnnxModelHandler` (`OnnxWorkerModelHandler` with workers) or `TfjsModelHandler`. */
export async function createHandler(options: HandlerOptions): Promise<CreatedHandler> {
  const runtime = options.runtime ?? (await detectRuntime(options.model));
  if (runtime === 'onnx') {
    if (options.modelType !== undefined || options.backend !== undefined) {
      throw new UsageError('--model-type and --backend apply to TensorFlow.js models only.');
    }
    const config = { modelUri: options.model, device: options.device ?? 'cpu', onWarning: options.log } as const;
    const threads = options.threads === undefined ? {} : { intraOpNumThreads: options.threads };
    const inline = new OnnxModelHandler({ ...config, sessionOptions: { ...CLI_ONNX_SESSION_OPTIONS, ...threads } });
    const handler =
      options.workers === undefined
        ? inline
        : new OnnxWorkerModelHandler({ ...config, workers: options.workers, sessionOptions: threads });
    return { runtime, handler, probe: inline };
  }
  if (options.device !== undefined || options.workers !== undefined || options.threads !== undefined) {
    throw new UsageError('--device, --workers and --threads apply to ONNX models only.');
  }
  const modelType = options.modelType ?? (await detectModelType(options.model));
  const handler = new TfjsModelHandler({
    modelUri: options.model,
    modelType,
    ...(options.backend !== undefined && { backend: options.backend }),
    logger: { info: (m: string) => (options.verbose ? options.log(m) : undefined), warn: options.log },
  });
  return { runtime, handler, probe: handler };
}

function onnxSignature(model: OnnxModel): ModelSignature {
  return {
    runtime: 'onnx',
    inputs: model.inputs.map((input) => ({
      name: input.name,
      dtype: (input.type !== undefined && ONNX_TYPES.includes(input.type) ? input.type : 'float32') as CliDType,
      dims: input.shape?.slice(1).map((d) => (typeof d === 'number' && d >= 0 ? d : null)),
    })),
    outputNames: model.outputNames,
  };
}

function tfjsSignature(model: TfjsModel): ModelSignature {
  return {
    runtime: 'tfjs',
    inputs: model.inputs.map((input) => ({
      name: input.name,
      dtype: (input.dtype === 'int32' || input.dtype === 'bool' ? input.dtype : 'float32') as CliDType,
      dims: input.shape?.map((d) => (typeof d === 'number' && d >= 0 ? d : null)),
    })),
    outputNames: model.outputNames,
  };
}

/** The inputs and outputs of a loaded model (the command loads it once, with `loadJobModel`, before any input is read). */
export function signatureOf(model: unknown, runtime: ModelRuntime): ModelSignature {
  return runtime === 'onnx' ? onnxSignature(model as OnnxModel) : tfjsSignature(model as TfjsModel);
}
