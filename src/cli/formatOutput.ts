import { InferenceError } from '../index.js';
import { nestedArrayText, numberText, roundedNumberText } from './formatNumbers.js';

/** `--output-format`. */
export type OutputFormat = 'full' | 'array' | 'argmax' | 'topk';

/** The output formats, for `--help` and validation. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['full', 'array', 'argmax', 'topk'];

/** Options of {@link createOutputFormatter}. */
export interface OutputFormatConfig {
  readonly format: OutputFormat;
  /** The model's outputs, in order (names of a single-output result). */
  readonly outputNames: readonly string[];
  /** `--output-name`: the output that `array`, `argmax` and `topk` read. @default every output (array), the first (others) */
  readonly outputName: string | undefined;
  /** `--top-k`. */
  readonly topK: number;
  /** `--softmax`: scores of argmax/topk are softmax probabilities over the output. */
  readonly softmax: boolean;
  /** `--precision`: significant digits of float outputs. @default 9 for float32 (exact), all for float64 */
  readonly precision: number | undefined;
  /** Add `model` (the model id) to every record (on with `--watch`; always in `full`). */
  readonly includeModel: boolean;
}

/** One output of one record, normalised across runtimes. */
interface NamedOutput {
  readonly name: string;
  readonly data: ArrayLike<number | bigint | string>;
  readonly dims: readonly number[];
  readonly dtype: string;
}

/** What the record's metadata contributes to its output line. */
export interface OutputMeta {
  readonly line: number;
  readonly id?: unknown;
  readonly hasId: boolean;
}

function isOutput(x: unknown): x is { data: ArrayLike<unknown>; dims?: number[]; shape?: number[] } {
  const o = x as { data?: unknown; dims?: unknown; shape?: unknown } | null;
  return (
    o !== null &&
    typeof o === 'object' &&
    (ArrayBuffer.isView(o.data) || Array.isArray(o.data)) &&
    (Array.isArray(o.dims) || Array.isArray(o.shape))
  );
}

function normalise(
  x: { data: ArrayLike<unknown>; dims?: number[]; shape?: number[]; type?: string; dtype?: string },
  name: string,
): NamedOutput {
  return {
    name,
    data: x.data as ArrayLike<number | bigint | string>,
    dims: x.dims ?? x.shape ?? [x.data.length],
    dtype: x.type ?? x.dtype ?? 'float32',
  };
}

/** The outputs of an ONNX or TF.js inference (one tensor, or a record output name → tensor). */
export function outputsOf(inference: unknown, outputNames: readonly string[]): NamedOutput[] {
  if (isOutput(inference)) return [normalise(inference, outputNames[0] ?? 'output')];
  if (inference === null || typeof inference !== 'object') {
    throw new InferenceError(`the model returned ${String(inference)} for this record, not a tensor.`, 1);
  }
  return Object.entries(inference).map(([name, value]) => {
    if (!isOutput(value)) throw new InferenceError(`model output \`${name}\` is not a tensor.`, 1);
    return normalise(value, name);
  });
}

/** Element types read as plain numbers (no rounding, always finite). */
const INTEGER_TYPES = new Set(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32']);

/** Product of dims; NaN when one is not a non-negative integer. */
function sizeOf(dims: readonly number[]): number {
  let size = 1;
  for (const d of dims) size *= Number.isInteger(d) && d >= 0 ? d : NaN;
  return size;
}

function valueReader(dtype: string, precision: number | undefined): (v: number | bigint | string) => unknown {
  if (dtype === 'int64' || dtype === 'uint64') {
    return (v) =>
      typeof v === 'bigint' && (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
        ? v.toString()
        : Number(v);
  }
  if (dtype === 'string') return (v) => v;
  if (dtype === 'bool') return (v) => v === 1 || (v as unknown) === true;
  const digits = precision ?? (dtype === 'float32' ? 9 : undefined);
  if (digits === undefined || !(dtype === 'float32' || dtype === 'float64' || dtype === 'float16')) {
    return (v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v);
  }
  return (v) => (Number.isFinite(v) ? Number((v as number).toPrecision(digits)) : null);
}

function flat(output: NamedOutput, precision: number | undefined): unknown[] {
  const read = valueReader(output.dtype, precision);
  return Array.from(output.data, read);
}

function nest(values: readonly unknown[], dims: readonly number[]): unknown {
  if (dims.length === 0) return values[0];
  if (dims.length === 1) return values;
  const step = values.length / dims[0];
  const out: unknown[] = [];
  for (let i = 0; i < dims[0]; i++) out.push(nest(values.slice(i * step, (i + 1) * step), dims.slice(1)));
  return out;
}

function scores(output: NamedOutput, softmax: boolean): number[] {
  const values = Array.from(output.data, Number);
  if (!softmax) return values;
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  let total = 0;
  const exps = values.map((v) => {
    const e = Math.exp(v - max);
    total += e;
    return e;
  });
  return exps.map((e) => e / total);
}

/**
 * Formats one result as its JSON output line: `line`, `id` (with `--id-field`), then by format:
 * - `full`: `model` and `outputs` name → `{ dtype, dims, data }` (flat data);
 * - `array`: `output` (nested arrays) for one output, else `outputs` name → nested arrays;
 * - `argmax`: `class` (index of the largest value) and `score`;
 * - `topk`: `top`: the K largest as `{ class, score }`, largest first (ties: lower index first).
 */
export function createOutputFormatter(
  config: OutputFormatConfig,
): (meta: OutputMeta, inference: unknown, modelId: string | undefined) => string {
  const { format, outputNames, outputName, topK, softmax, precision, includeModel } = config;
  const pick = (outputs: NamedOutput[]): NamedOutput => {
    if (outputName === undefined) return outputs[0];
    const found = outputs.find((o) => o.name === outputName);
    if (found === undefined) {
      throw new InferenceError(
        `the model has no output \`${outputName}\` (--output-name); its outputs: ${outputs.map((o) => `\`${o.name}\``).join(', ')}.`,
        1,
      );
    }
    return found;
  };
  // Raw float32 scores get float32's 9 digits; softmax probabilities (computed in float64) keep theirs.
  const round = (v: number, dtype: string): number => {
    const digits = precision ?? (!softmax && dtype === 'float32' ? 9 : undefined);
    return digits === undefined ? v : Number(v.toPrecision(digits));
  };
  // The common line, `array` of one numeric output, written as text directly: the same JSON as below, without a
  // nested array of rounded numbers that JSON.stringify then formats again (issue 11, the main job's hot path).
  const numericText = (dtype: string): ((v: number) => string) | undefined => {
    if (dtype === 'float32' || dtype === 'float64' || dtype === 'float16') {
      const digits = precision ?? (dtype === 'float32' ? 9 : undefined);
      return digits === undefined ? numberText : (v) => roundedNumberText(v, digits);
    }
    return INTEGER_TYPES.has(dtype) ? numberText : undefined;
  };
  const singleName = outputNames[0] ?? 'output';
  const fastArray = (meta: OutputMeta, inference: unknown, modelId: string | undefined): string | undefined => {
    if (format !== 'array' || !isOutput(inference)) return undefined;
    if (outputName !== undefined && outputName !== singleName) return undefined;
    const { data } = inference;
    const x = inference as { dims?: number[]; shape?: number[]; type?: string; dtype?: string };
    const dims = x.dims ?? x.shape ?? [data.length];
    const text = numericText(x.type ?? x.dtype ?? 'float32');
    if (text === undefined || !ArrayBuffer.isView(data) || data.length === 0 || sizeOf(dims) !== data.length) {
      return undefined;
    }
    let line = `{"line":${JSON.stringify(meta.line)}`;
    if (meta.hasId) line += `,"id":${JSON.stringify(meta.id ?? null)}`;
    if (includeModel) line += `,"model":${JSON.stringify(modelId ?? null)}`;
    return `${line},"output":${nestedArrayText(data as unknown as ArrayLike<number>, dims, text)}}`;
  };
  return (meta, inference, modelId) => {
    const fast = fastArray(meta, inference, modelId);
    if (fast !== undefined) return fast;
    const record: Record<string, unknown> = { line: meta.line };
    if (meta.hasId) record.id = meta.id ?? null;
    if (includeModel || format === 'full') record.model = modelId ?? null;
    const outputs = outputsOf(inference, outputNames);
    switch (format) {
      case 'full': {
        const all: Record<string, unknown> = {};
        for (const o of outputs) all[o.name] = { dtype: o.dtype, dims: [...o.dims], data: flat(o, precision) };
        record.outputs = all;
        break;
      }
      case 'array': {
        if (outputs.length === 1 || outputName !== undefined) {
          const o = pick(outputs);
          record.output = nest(flat(o, precision), o.dims);
        } else {
          const all: Record<string, unknown> = {};
          for (const o of outputs) all[o.name] = nest(flat(o, precision), o.dims);
          record.outputs = all;
        }
        break;
      }
      case 'argmax':
      case 'topk': {
        const picked = pick(outputs);
        const values = scores(picked, softmax);
        if (values.length === 0) throw new InferenceError('the model output is empty: there is no class to pick.', 1);
        const order = values.map((_, i) => i);
        if (format === 'argmax') {
          let best = 0;
          for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
          record.class = best;
          record.score = round(values[best], picked.dtype);
        } else {
          order.sort((a, b) => values[b] - values[a] || a - b);
          record.top = order.slice(0, topK).map((i) => ({ class: i, score: round(values[i], picked.dtype) }));
        }
        break;
      }
    }
    return JSON.stringify(record);
  };
}
