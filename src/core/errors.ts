/** A batch of inference failed: the handler threw, rejected, or returned the wrong number of results. */
export class InferenceError extends Error {
  override readonly name = 'InferenceError' as const;
  constructor(
    message: string,
    /** Number of elements in the failed batch. */
    readonly batchSize: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A preprocess or postprocess function (or an element-wise stage) threw for one element. */
export class ProcessingError extends Error {
  override readonly name = 'ProcessingError' as const;
  constructor(
    message: string,
    /** Where it failed. */
    readonly stage: 'preprocess' | 'postprocess' | 'stage',
    /** Which function, in execution order. */
    readonly index: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A model could not be loaded (missing file, corrupt bytes, bad signature, missing runtime...). */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError' as const;
  constructor(
    message: string,
    /** The id (path, URL) of the model that failed to load; `''` for the handler's default. */
    readonly modelId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An element does not fit what the model expects (shape, dtype, type, value). */
export class InvalidExampleError extends Error {
  override readonly name = 'InvalidExampleError' as const;
  constructor(
    message: string,
    /** Position of the element in its batch, when known. */
    readonly position: number | undefined,
    /** The input or field that is wrong (e.g. an ONNX input name), when known. */
    readonly field: string | undefined,
  ) {
    super(message);
  }
}

/** A batch or a model load took longer than the operator's `timeoutMs`. */
export class InferenceTimeoutError extends Error {
  override readonly name = 'InferenceTimeoutError' as const;
  constructor(
    message: string,
    /** The limit that was exceeded, in milliseconds. */
    readonly timeoutMs: number,
  ) {
    super(message);
  }
}

/** More elements were queued than the operator's `maxBufferedElements` allows. */
export class BufferOverflowError extends Error {
  override readonly name = 'BufferOverflowError' as const;
  constructor(
    message: string,
    /** The bound that was exceeded. */
    readonly maxBufferedElements: number,
  ) {
    super(message);
  }
}

/** An optional peer runtime or client (onnxruntime-node, @tensorflow/..., ioredis) is not installed. */
export class MissingRuntimeError extends Error {
  override readonly name = 'MissingRuntimeError' as const;
  constructor(
    /** The npm package to install. */
    readonly packageName: string,
    /** `neededBy`: what needs it, starting the message. @default 'This handler' */
    options?: { cause?: unknown; neededBy?: string },
  ) {
    super(
      `${options?.neededBy ?? 'This handler'} needs the optional peer dependency \`${packageName}\`: run \`npm install ${packageName}\`.`,
      options,
    );
  }
}

/** Turns anything thrown into an `Error`, keeping the original as `cause` when it was not one. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : `Non-Error thrown: ${describeValue(thrown)}`, {
    cause: thrown,
  });
}

/** A short, safe description of a value for error messages: `` `0` (number) ``. */
export function describeValue(value: unknown): string {
  let shown: string;
  try {
    shown = typeof value === 'string' ? value : typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
  } catch {
    shown = String(value);
  }
  if (shown === undefined) shown = String(value);
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${shown}\` (${type})`;
}
