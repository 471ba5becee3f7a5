/** What crosses the boundary between an `OnnxWorkerPool` and its worker threads (see `workerSource.ts`). */

/** A tensor as it crosses the thread boundary: plain fields, its typed array transferred. */
export interface WireTensor {
  readonly type: string;
  readonly data: ArrayBufferView | readonly string[];
  readonly dims: readonly number[];
}

/** Options of an `OnnxWorkerPool`. */
export interface OnnxWorkerPoolOptions {
  /** Absolute path of `onnxruntime-node`'s entry point, `require`d by each worker. */
  readonly ortPath: string;
  /** The model: a path or its bytes (each worker gets a copy of the bytes). */
  readonly model: string | Uint8Array;
  /** Label of the model in error messages. */
  readonly source: string;
  /** Passed to `InferenceSession.create` in each worker (structured-cloned). */
  readonly sessionOptions: object;
  /** Number of workers, each with its own session. */
  readonly size: number;
  /**
   * The process-wide WebGPU lock (`webGpuLockBuffer()`) for a model on WebGPU: each worker then creates, runs and
   * releases its session only while holding it. @default undefined (no lock: not a WebGPU model)
   */
  readonly webGpuLock?: SharedArrayBuffer;
  /**
   * An `inferenceFn` each worker loads after its session: `require(path)` (or `import()` for an ES module), then its
   * export `exportName`, called with `options` when `hasOptions` (a factory such as `onnxGenerate`).
   * @default undefined (one `session.run` per batch)
   */
  readonly inferenceFn?: WorkerInferenceFnSpec;
}

/** Where a worker finds its `inferenceFn` (see `OnnxWorkerModelHandlerConfig.inferenceFn`). */
export interface WorkerInferenceFnSpec {
  /** Absolute path of the module. */
  readonly path: string;
  readonly exportName: string;
  readonly options: unknown;
  readonly hasOptions: boolean;
}

/** Per-run extras for a worker's `inferenceFn`. */
export interface WorkerRunExtras {
  /** Receives the partial outputs the function emits (row of the run's feeds, value). */
  readonly onPartial?: (row: number, value: unknown) => void;
  readonly inferenceArgs?: unknown;
  readonly modelId?: string;
}

/** A message a worker thread posts to its pool. */
export type WorkerMessage =
  | { readonly type: 'ready'; readonly outputNames?: readonly string[] }
  | { readonly type: 'partial'; readonly id: number; readonly row: number; readonly value: unknown }
  | { readonly type: 'loadError'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly outputs: Record<string, WireTensor> }
  | { readonly type: 'error'; readonly id: number; readonly message: string };
