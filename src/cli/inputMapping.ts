import { InvalidExampleError } from '../index.js';
import { UsageError } from './UsageError.js';
import { type InputSignature, type JsonTensor, jsonToTensor } from './jsonTensor.js';

/** Where each model input is read from in a JSON record, and how it is reshaped. */
export interface InputMapping {
  /** One entry per model input, in model order. */
  readonly inputs: readonly {
    readonly signature: InputSignature;
    /** Field path (`a.b.0`), `'.'` for the whole record, or `undefined` for the default rule. */
    readonly field: string | undefined;
    readonly reshape: readonly number[] | undefined;
  }[];
}

/** The fields of the default rule for a single-input model, in order. */
export const DEFAULT_INPUT_FIELDS = ['input', 'features'] as const;

/** Parses `--shape 28,28,1` (one `-1` allowed). */
export function parseDims(text: string, option: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const dims = parts.map(Number);
  if (
    text.trim() === '' ||
    dims.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)) ||
    dims.filter((d) => d === -1).length > 1
  ) {
    throw new UsageError(
      `${option}: expected comma-separated positive integers (at most one -1), got \`${text}\` (e.g. --shape 28,28,1).`,
    );
  }
  return dims;
}

/** Splits `name=value` specs; a spec without `=` applies to the only input. */
function splitSpecs(specs: readonly string[], option: string, inputs: readonly InputSignature[]): Map<string, string> {
  const names = inputs.map((i) => i.name);
  const out = new Map<string, string>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    let name: string;
    let value: string;
    if (eq < 0 || !names.includes(spec.slice(0, eq))) {
      if (inputs.length !== 1) {
        const named = eq >= 0 ? ` (the model has no input \`${spec.slice(0, eq)}\`)` : '';
        throw new UsageError(
          `${option} \`${spec}\`${named}: the model has ${inputs.length} inputs (${names.map((n) => `\`${n}\``).join(', ')}); ` +
            `name one per option: ${option} <input>=<value>.`,
        );
      }
      [name, value] = [names[0], spec];
    } else {
      [name, value] = [spec.slice(0, eq), spec.slice(eq + 1)];
    }
    if (value === '') throw new UsageError(`${option} \`${spec}\`: the value after the input name is empty.`);
    if (out.has(name)) throw new UsageError(`${option} is given twice for input \`${name}\`.`);
    out.set(name, value);
  }
  return out;
}

/**
 * Builds the mapping from the model's inputs and the `--input-field` / `--shape` options; throws a `UsageError` for
 * options that do not fit the model (an unknown input name, several inputs without names).
 */
export function createInputMapping(
  inputs: readonly InputSignature[],
  fieldSpecs: readonly string[],
  shapeSpecs: readonly string[],
): InputMapping {
  const fields = splitSpecs(fieldSpecs, '--input-field', inputs);
  const shapes = splitSpecs(shapeSpecs, '--shape', inputs);
  return {
    inputs: inputs.map((signature) => {
      const shape = shapes.get(signature.name);
      return {
        signature,
        field: fields.get(signature.name),
        reshape: shape === undefined ? undefined : checkReshapeFits(parseDims(shape, '--shape'), signature, shape),
      };
    }),
  };
}

/**
 * A `--shape` that can never fit the model's declared dims (another rank, or a fixed dim that differs) would fail every
 * record: a usage error (exit 2) before anything is read.
 */
function checkReshapeFits(reshape: number[], signature: InputSignature, spec: string): number[] {
  const declared = signature.dims;
  if (declared === undefined) return reshape;
  const fits =
    declared.length === reshape.length && declared.every((d, i) => d === null || reshape[i] === -1 || d === reshape[i]);
  if (!fits) {
    const show = (dims: readonly (number | null)[]) =>
      `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
    throw new UsageError(
      `--shape \`${spec}\`: the model's input \`${signature.name}\` takes ${show(declared)} per record; ${show(reshape)} can never fit.`,
    );
  }
  return reshape;
}

/** Reads a field path: `'.'` is the record itself; `a.b` walks objects; a numeric step indexes an array. */
export function readField(record: unknown, path: string): unknown {
  if (path === '.') return record;
  let current = record;
  for (const step of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

function describeKind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** The JSON value of one input of a record, by the explicit field or the default rule. */
function selectValue(record: unknown, field: string | undefined, input: InputSignature, single: boolean): unknown {
  if (field !== undefined) {
    const value = readField(record, field);
    if (value === undefined) {
      throw new InvalidExampleError(
        `input \`${input.name}\`: the record has no field \`${field}\` (--input-field).`,
        undefined,
        input.name,
      );
    }
    return value;
  }
  if (single) {
    if (Array.isArray(record)) return record;
    if (record !== null && typeof record === 'object') {
      for (const name of DEFAULT_INPUT_FIELDS) {
        if (Object.prototype.hasOwnProperty.call(record, name)) return (record as Record<string, unknown>)[name];
      }
      if (Object.prototype.hasOwnProperty.call(record, input.name))
        return (record as Record<string, unknown>)[input.name];
    }
    throw new InvalidExampleError(
      `no model input in the record (${describeKind(record)}): expected an array, or an object with an ` +
        `\`input\` or \`features\` field (or set --input-field).`,
      undefined,
      input.name,
    );
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new InvalidExampleError(
      `the model has several inputs, so each record must be an object with a field per input; got ${describeKind(record)}.`,
      undefined,
      input.name,
    );
  }
  if (!Object.prototype.hasOwnProperty.call(record, input.name)) {
    throw new InvalidExampleError(
      `input \`${input.name}\`: the record has no field \`${input.name}\` (or map it: --input-field ${input.name}=<field>).`,
      undefined,
      input.name,
    );
  }
  return (record as Record<string, unknown>)[input.name];
}

/** Reads model input `k` of a parsed JSON record as a tensor. */
export function readInput(record: unknown, mapping: InputMapping, k: number): JsonTensor {
  const { signature, field, reshape } = mapping.inputs[k];
  return jsonToTensor(selectValue(record, field, signature, mapping.inputs.length === 1), signature, reshape);
}

/** Reads every model input of a parsed JSON record as tensors, in model order. */
export function readInputs(record: unknown, mapping: InputMapping): Map<string, JsonTensor> {
  const single = mapping.inputs.length === 1;
  const tensors = new Map<string, JsonTensor>();
  for (const { signature, field, reshape } of mapping.inputs) {
    tensors.set(signature.name, jsonToTensor(selectValue(record, field, signature, single), signature, reshape));
  }
  return tensors;
}
