import { InvalidExampleError } from '../index.js';
import { DEFAULT_INPUT_FIELDS, type InputMapping, readField, readInput, readInputs } from './inputMapping.js';
import { flatTensor, type JsonTensor } from './jsonTensor.js';
import { RecordScanner } from './RecordScanner.js';
import type { ModelRuntime } from './loadModelSignature.js';

/** One input line. `id` is filled in once the line is parsed (from `--id-field`). */
export interface LineRecord {
  /** 1-based line number in the input. */
  readonly line: number;
  /** The line as read (without its line break). */
  readonly text: string;
  /** Size in bytes of the full line when it was cut for being over `--max-line-length`. */
  readonly tooLong?: number;
  /** The `--id-field` value, once parsed. */
  id?: unknown;
}

/** Options of {@link createRecordParser}. */
export interface RecordParserConfig {
  readonly mapping: InputMapping;
  readonly runtime: ModelRuntime;
  /** Longer lines (in UTF-8 bytes) fail without being parsed. */
  readonly maxLineLength: number;
  /** Field copied into every output and dead-letter record as `id`. */
  readonly idField: string | undefined;
}

/** A model example built from a record, tied back to its line by {@link RecordParser.recordOf}. */
export type CliExample = object;

/** Parses lines into model examples and remembers which line each example came from. */
export interface RecordParser {
  /** A preprocess function for the handler: line → example; throws (a dead letter) for a bad line. */
  readonly parse: (record: LineRecord) => CliExample;
  /** The line an example came from (for results and inference failures). */
  readonly recordOf: (example: unknown) => LineRecord | undefined;
}

/**
 * Where an example keeps the line it came from: a symbol, so that neither handler sees it as a field or an input name
 * (it was a WeakMap: one ephemeron entry per record, costly to collect).
 */
const LINE = Symbol('rxjs-inference line');

function onnxTensor(t: JsonTensor, record: LineRecord | undefined): object {
  return { data: t.data, dims: t.dims, type: t.dtype, [LINE]: record };
}

function tfjsTensor(t: JsonTensor, record: LineRecord | undefined): object {
  return { data: t.data, shape: t.dims, dtype: t.dtype, [LINE]: record };
}

/** A top-level key (`readField` splits paths at dots; `'.'` is the whole record). */
function isTopLevel(field: string): boolean {
  return field !== '.' && !field.includes('.');
}

/**
 * The fast reader of the common line (a flat float array and scalar fields, {@link RecordScanner}) where it reads the
 * same as `JSON.parse` and the mapping: one float input, read from a top-level field (the default rule's `input`,
 * `features` or the input's name, or the one `--input-field`), and a top-level `--id-field` that is not one of those.
 */
function scannerFor(mapping: InputMapping, idField: string | undefined): RecordScanner | undefined {
  if (mapping.inputs.length !== 1) return undefined;
  const { signature, field } = mapping.inputs[0];
  if (signature.dtype !== 'float32' && signature.dtype !== 'float64') return undefined;
  if (field !== undefined && !isTopLevel(field)) return undefined;
  const inputKeys = field !== undefined ? [field] : [...DEFAULT_INPUT_FIELDS, signature.name];
  if (idField !== undefined && (!isTopLevel(idField) || inputKeys.includes(idField))) return undefined;
  return new RecordScanner({ inputKeys, idKey: idField, dtype: signature.dtype });
}

/**
 * Creates the preprocess step of the command: checks the line length, parses the JSON, reads the id and builds the
 * example for the runtime (an ONNX `TensorLike` or TF.js `{ data, shape, dtype }`, or a record input name → tensor
 * for multi-input models). Every failure is an `InvalidExampleError` whose message is the
 * dead-letter reason.
 */
export function createRecordParser({ mapping, runtime, maxLineLength, idField }: RecordParserConfig): RecordParser {
  const toTensor = runtime === 'onnx' ? onnxTensor : tfjsTensor;
  // A top-level id field (the common case) is read directly, without splitting its path for every record.
  const readId =
    idField === undefined || idField === '.' || idField.includes('.')
      ? (value: unknown) => readField(value, idField!)
      : (value: unknown) =>
          value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, idField)
            ? (value as Record<string, unknown>)[idField]
            : undefined;
  const single = mapping.inputs.length === 1;
  const scanner = scannerFor(mapping, idField);
  const parse = (record: LineRecord): CliExample => {
    const { text } = record;
    // The LineSource cuts over-long lines and records their size; a line given here whole is measured.
    const bytes = record.tooLong ?? (text.length > maxLineLength / 3 ? Buffer.byteLength(text) : text.length);
    if (bytes > maxLineLength) {
      throw new InvalidExampleError(
        `line too long: ${bytes} bytes, over the limit of ${maxLineLength} (--max-line-length).`,
        undefined,
        undefined,
      );
    }
    // The common line, read without JSON.parse's objects (issue 11); any other line, and every error, below.
    const values = scanner?.scan(text);
    if (values !== undefined) {
      if (idField !== undefined) record.id = scanner!.id === undefined ? null : scanner!.id;
      return toTensor(flatTensor(values, mapping.inputs[0].signature, mapping.inputs[0].reshape), record);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InvalidExampleError(`malformed JSON: ${(error as Error).message}`, undefined, undefined);
    }
    if (idField !== undefined) {
      const id = readId(value);
      record.id = id === undefined ? null : id;
    }
    if (single) return toTensor(readInput(value, mapping, 0), record);
    const named: Record<string | symbol, object | LineRecord> = { [LINE]: record };
    for (const [name, tensor] of readInputs(value, mapping)) named[name] = toTensor(tensor, undefined);
    return named;
  };
  return {
    parse,
    recordOf: (example) =>
      example !== null && typeof example === 'object' ? (example as { [LINE]?: LineRecord })[LINE] : undefined,
  };
}
