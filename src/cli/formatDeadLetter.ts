import type { FailedRecord } from '../index.js';
import type { LineRecord } from './recordParser.js';

/** One dead-letter line: where the record was, why it failed, and its text (truncated when huge). */
export interface DeadLetter {
  /** 1-based input line number (`null` if the failure could not be traced to a line). */
  readonly line: number | null;
  /** The `--id-field` value, when the option is set and the line parsed. */
  readonly id?: unknown;
  /** Where it failed: `preprocess` (reading the line), `inference` (the model) or `postprocess` (the output). */
  readonly stage: string;
  /** The error's class (`InvalidExampleError`, `InferenceError`, ...). */
  readonly error: string;
  /** What went wrong, naming the input, position or option. */
  readonly reason: string;
  /** The input line, cut at `maxRawLength` characters. */
  readonly raw: string | null;
  /** The line's full size in bytes (UTF-8). */
  readonly rawLength: number | null;
  /** Whether `raw` was cut. */
  readonly truncated: boolean;
}

/** The innermost useful message: the library wraps a plain throw of a step in a `ProcessingError` (kept as `cause`). */
function reasonOf(error: Error): { name: string; message: string } {
  const cause = (error as { cause?: unknown }).cause;
  if (error.name === 'ProcessingError' && cause instanceof Error) return { name: cause.name, message: cause.message };
  return { name: error.name, message: error.message };
}

/** Builds the dead-letter line of a failure; `record` is the line it came from, when known. */
export function formatDeadLetter(
  failure: FailedRecord<unknown>,
  record: LineRecord | undefined,
  { maxRawLength, hasId }: { maxRawLength: number; hasId: boolean },
): string {
  const { name, message } = reasonOf(failure.error);
  const text = record?.text;
  const letter: DeadLetter = {
    line: record?.line ?? null,
    ...(hasId && { id: record?.id ?? null }),
    stage: failure.stage,
    error: name,
    reason: message,
    raw: text === undefined ? null : text.length > maxRawLength ? text.slice(0, maxRawLength) : text,
    rawLength: text === undefined ? null : (record?.tooLong ?? Buffer.byteLength(text)),
    truncated: text !== undefined && (text.length > maxRawLength || record?.tooLong !== undefined),
  };
  return JSON.stringify(letter);
}

/** The same failure as one line for standard error (used without `--dead-letter`). */
export function describeFailure(failure: FailedRecord<unknown>, record: LineRecord | undefined): string {
  const { message } = reasonOf(failure.error);
  return `rxjs-inference: line ${record?.line ?? '?'}: ${failure.stage} failed: ${message}`;
}

/**
 * The input line a failure came from. What entered the failed step is the line itself (preprocess), the example
 * parsed from it (inference), or the result holding that example (postprocess: a refreshed model without the
 * `--output-name` output, say) — each is traced back, so that no dead letter loses its line.
 */
export function lineOfFailure(
  failure: FailedRecord<unknown>,
  recordOf: (example: unknown) => LineRecord | undefined,
): LineRecord | undefined {
  const element = failure.element;
  if (isLineRecord(element)) return element;
  const record = recordOf(element);
  if (record !== undefined || failure.stage !== 'postprocess') return record;
  return element !== null && typeof element === 'object'
    ? recordOf((element as { example?: unknown }).example)
    : undefined;
}

function isLineRecord(x: unknown): x is LineRecord {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as LineRecord).line === 'number' &&
    typeof (x as LineRecord).text === 'string'
  );
}
