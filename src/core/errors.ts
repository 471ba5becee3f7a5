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
    /**
     * Position of the element in the stream (counted from 0, as `elementSignal`'s index), when known: `runInference`
     * sets it, and names it in the message, when a handler's error gives the batch `position`.
     */
    readonly streamPosition?: number,
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
  if (isError(thrown)) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : `Non-Error thrown: ${describeValue(thrown)}`, {
    cause: thrown,
  });
}

/**
 * The message of anything thrown, never throwing itself: an error's `message`, a thrown string itself, otherwise the
 * value described (`describeValue`). The one helper for it: every "message of what was thrown" in the code uses it.
 */
export function messageOf(thrown: unknown): string {
  let message: unknown;
  try {
    // Read, not `instanceof Error`: errors of the native addons or a vm context (jest) come from another realm.
    message = (thrown as { message?: unknown } | null | undefined)?.message;
  } catch {
    // A thrown revoked Proxy has no message to read; describeValue says so.
  }
  if (typeof message === 'string') return message;
  return typeof thrown === 'string' ? thrown : describeValue(thrown);
}

/** `instanceof Error` that cannot throw (`instanceof` reads the prototype, which a revoked Proxy refuses). */
function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

const NON_FINITE = /"\\u0000(-?Infinity|NaN)\\u0000"/g;

/**
 * A short, safe description of a value for error messages: `` `0` (number) ``, `` `[1,NaN]` (array) ``. It never
 * throws, whatever the value (a revoked Proxy, a throwing getter or `toJSON`), and prints NaN and ±Infinity as
 * such rather than as JSON's `null` (#13 item 11).
 */
export function describeValue(value: unknown): string {
  let shown: string | undefined;
  let type: string = value === null ? 'null' : typeof value;
  try {
    if (Array.isArray(value)) type = 'array';
    if (typeof value === 'string') shown = value;
    else if (typeof value === 'bigint') shown = `${value}n`;
    else if (typeof value === 'number') shown = String(value);
    else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const view = value as unknown as ArrayLike<number | bigint>;
      type = view.constructor.name;
      shown = `[${Array.from({ length: Math.min(view.length, 16) }, (_, i) => String(view[i])).join(',')}${view.length > 16 ? ',...' : ''}]`;
    } else {
      shown = JSON.stringify(value, (_key, v: unknown) =>
        typeof v === 'number' && !Number.isFinite(v) ? `\u0000${v}\u0000` : v,
      )?.replace(NON_FINITE, '$1');
    }
    if (shown === undefined) shown = String(value);
  } catch {
    try {
      shown = String(value);
    } catch {
      shown = 'a value that cannot be read';
    }
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return `\`${shown}\` (${type})`;
}
