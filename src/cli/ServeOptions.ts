import type { TfjsBackendName, TfjsModelType } from '../handlers/index.js';
import type { OnnxDevice } from '../index.js';
import type { ModelRuntime } from './loadModelSignature.js';

/** The options of `rxjs-inference serve`, parsed (see `--help`; the model and batching options are predict's). */
export interface ServeOptions {
  /** `--model`: an `.onnx` file, or a TF.js `model.json` (or its directory). */
  readonly model: string;
  /** `--name`: the model's name in the routes. @default the model file's name without its extension */
  readonly name?: string;
  /** `--host`: the address to listen on. @default '127.0.0.1' */
  readonly host: string;
  /** `--port`: 0 picks a free port (printed on standard output). @default 8000 */
  readonly port: number;
  /** `--max-body-bytes`: larger request bodies get 413 before they are parsed. */
  readonly maxBodyBytes: number;
  /** `--request-timeout-ms`: a request must arrive within it (else 408), and be answered within it again (else 504). */
  readonly requestTimeoutMs: number;
  /** `--max-queued-requests`: examples waiting past it get 503. */
  readonly maxQueuedRequests: number;
  /** Batching: `--min-batch-size`, `--max-batch-size`, `--max-batch-duration-ms`, `--concurrent`. */
  readonly minBatchSize?: number;
  readonly maxBatchSize?: number;
  readonly maxBatchDurationMs?: number;
  readonly concurrent?: number;
  /** `--workers`: run an ONNX model in this many worker threads. */
  readonly workers?: number;
  /** `--threads`: intra-op threads of each ONNX session (inline, or each worker's). */
  readonly threads?: number;
  /** `--timeout-ms`: per batch. */
  readonly timeoutMs?: number;
  /** `--watch`: a glob of model files; the newest new one replaces the model while serving. */
  readonly watch?: string;
  readonly watchIntervalMs: number;
  readonly runtime?: ModelRuntime;
  readonly modelType?: TfjsModelType;
  readonly backend?: TfjsBackendName;
  readonly device?: OnnxDevice;
  readonly quiet: boolean;
  readonly verbose: boolean;
}
