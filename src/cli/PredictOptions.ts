import type { OnnxDevice, TfjsBackendName, TfjsModelType } from '../handlers/index.js';
import type { OutputFormat } from './formatOutput.js';
import type { ModelRuntime } from './loadModelSignature.js';

/** The options of `rxjs-inference predict`, parsed (see `--help` and docs/cli.md for each). */
export interface PredictOptions {
  /** `--model`: an `.onnx` file, or a TF.js `model.json` (or its directory). */
  readonly model: string;
  /** `--input`: a JSON-lines file; standard input when absent or `-`. */
  readonly input?: string;
  /** `--output`: where output lines go; standard output when absent or `-`. */
  readonly output?: string;
  /** `--dead-letter`: where failed records go; without it they are described on standard error. */
  readonly deadLetter?: string;
  /** `--input-field` (repeatable): `field` or `input=field`. */
  readonly inputFields: readonly string[];
  /** `--shape` (repeatable): `d1,d2` or `input=d1,d2`. */
  readonly shapes: readonly string[];
  /** `--id-field`: copied into every output line as `id`. */
  readonly idField?: string;
  /** `--output-format`. */
  readonly outputFormat: OutputFormat;
  /** `--output-name`: which output `array`, `argmax` and `topk` read. */
  readonly outputName?: string;
  /** `--top-k`. */
  readonly topK: number;
  /** `--softmax`. */
  readonly softmax: boolean;
  /** `--precision`. */
  readonly precision?: number;
  /** Batching: `--min-batch-size`, `--max-batch-size`, `--max-batch-duration-ms`, `--concurrent`. */
  readonly minBatchSize?: number;
  readonly maxBatchSize?: number;
  readonly maxBatchDurationMs?: number;
  /** `--concurrent`: batches in flight. @default the handler's: 2 × `workers`, else 1 */
  readonly concurrent?: number;
  /** `--workers`: run an ONNX model in this many worker threads (`OnnxWorkerModelHandler`). */
  readonly workers?: number;
  /**
   * `--threads`: intra-op threads of each ONNX session (inline, or each worker's).
   * @default onnxruntime's (one per core) inline; cores ÷ `workers` each with workers
   */
  readonly threads?: number;
  /** `--timeout-ms`: per batch. */
  readonly timeoutMs?: number;
  /** `--max-in-flight`: records read but not yet written before reading pauses. */
  readonly maxInFlight: number;
  /** `--max-line-length`: longer lines (UTF-8 bytes) are dead letters, cut as they are read, never parsed. */
  readonly maxLineLength: number;
  /** `--max-raw-length`: characters of a line kept in its dead letter. */
  readonly maxRawLength: number;
  /** `--watch`: a glob of model files; the newest new one replaces the model while the job runs. */
  readonly watch?: string;
  /** `--watch-interval-ms`. */
  readonly watchIntervalMs: number;
  /** `--runtime`: `onnx` or `tfjs` (default: from the model path). */
  readonly runtime?: ModelRuntime;
  /** `--model-type` (TF.js). */
  readonly modelType?: TfjsModelType;
  /** `--backend` (TF.js). */
  readonly backend?: TfjsBackendName;
  /** `--device` (ONNX). */
  readonly device?: OnnxDevice;
  /** `--progress` / `--no-progress`: `undefined` = auto (on). */
  readonly progress: boolean;
  /** `--progress-interval-ms`: time between plain progress lines when standard error is not a terminal. */
  readonly progressIntervalMs: number;
  /** `--quiet`: no progress, no summary (errors only). */
  readonly quiet: boolean;
  /** `--verbose`: model load time, peak memory, backend choice. */
  readonly verbose: boolean;
  /** `--summary-json`: the summary and every metric as JSON. */
  readonly summaryJson?: string;
}
