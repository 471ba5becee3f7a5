import type { Tensor } from '@tensorflow/tfjs';
import { firstNonFinite } from '../../tensors/firstNonFinite.js';
import { nonFiniteMessage, nonFiniteReason } from '../../tensors/nonFiniteMessage.js';
import { allocateTensorData } from '../../tensors/dtypeTable.js';
import { failElement } from '../../tensors/elementError.js';
import { InvalidExampleError, describeValue } from '../../core/errors.js';
import {
  type DescribedInput,
  type TfjsInputSpec,
  type TfjsNestedArray,
  type TfjsNumericDType,
  type TfjsTypedArray,
  inputsOf,
  showShape,
  sizeOf,
} from './tfjsExamples.js';

/** One model input for a whole batch: either one packed buffer, or the elements' own tensors (to `tf.stack`). */
export interface PackedInput {
  readonly name: string;
  /** Batch shape: `[batchSize, ...elementShape]`. */
  readonly shape: readonly number[];
  readonly dtype: TfjsNumericDType;
  /** The batch's values, packed element after element (absent when every element was a tensor). */
  readonly values?: TfjsTypedArray;
  /** The elements' tensors, when every element was a tensor: stacked on the backend, without a download. */
  readonly tensors?: readonly Tensor[];
}

const NUMERIC: readonly string[] = ['float32', 'int32', 'bool'];

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function fitsDeclared(shape: readonly number[], declared: readonly (number | null)[]): boolean {
  return shape.length === declared.length && declared.every((d, i) => d === null || d === shape[i]);
}

function allocate(dtype: TfjsNumericDType, length: number): TfjsTypedArray {
  return allocateTensorData(dtype === 'bool' ? 'uint8' : dtype, length) as TfjsTypedArray;
}

/** Writes one plain number, checking it fits the dtype; returns a reason when it does not. */
function badNumber(v: unknown, dtype: TfjsNumericDType, checkFinite: boolean): string | undefined {
  if (typeof v === 'boolean' && dtype === 'bool') return undefined;
  if (typeof v !== 'number') return `expected a number, got ${describeValue(v)}`;
  if (dtype === 'float32') {
    return checkFinite && v - v !== 0 ? nonFiniteReason(v) : undefined;
  }
  if (dtype === 'int32') {
    return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? undefined : `expected an int32, got \`${v}\``;
  }
  return v === 0 || v === 1 ? undefined : `expected 0 or 1 (bool), got \`${v}\``;
}

function fillNumbers(
  out: TfjsTypedArray,
  offset: number,
  data: readonly number[],
  dtype: TfjsNumericDType,
  checkFinite: boolean,
  position: number,
  field: string,
): void {
  for (let j = 0; j < data.length; j++) {
    const v = data[j];
    const bad = badNumber(v, dtype, checkFinite);
    if (bad !== undefined) failElement(position, field, `value ${j}: ${bad}.`);
    out[offset + j] = Number(v);
  }
}

function fillNested(
  out: TfjsTypedArray,
  offset: number,
  data: TfjsNestedArray,
  shape: readonly number[],
  dtype: TfjsNumericDType,
  checkFinite: boolean,
  position: number,
  field: string,
): void {
  let next = offset;
  const path: number[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (depth === shape.length) {
      const bad = badNumber(value, dtype, checkFinite);
      if (bad !== undefined) failElement(position, field, `value at [${path.join(', ')}]: ${bad}.`);
      out[next++] = Number(value);
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[depth]) {
      const got = Array.isArray(value) ? `length ${value.length}` : describeValue(value);
      failElement(
        position,
        field,
        `ragged nested arrays: at [${path.join(', ')}] expected an array of length ${shape[depth]} ` +
          `(element shape ${showShape(shape)}), got ${got}.`,
      );
    }
    for (let j = 0; j < value.length; j++) {
      path.push(j);
      walk(value[j], depth + 1);
      path.pop();
    }
  };
  walk(data, 0);
}

function checkFiniteTyped(data: TfjsTypedArray, position: number, field: string): void {
  const j = firstNonFinite(data as ArrayLike<number>);
  if (j >= 0) failElement(position, field, nonFiniteMessage(data[j] as number, j));
}

function packOne(
  elements: readonly DescribedInput[],
  spec: TfjsInputSpec,
  checkFinite: boolean,
  download: (t: Tensor) => TfjsTypedArray,
): PackedInput {
  const field = spec.name;
  const first = elements[0] as DescribedInput;
  const shape = first.shape;
  for (const [i, e] of elements.entries()) {
    if (!sameShape(e.shape, shape)) {
      failElement(
        i,
        field,
        `shape ${showShape(e.shape)} differs from ${showShape(shape)} of example 0 in the same batch.`,
      );
    }
  }
  if (spec.shape !== undefined && !fitsDeclared(shape, spec.shape)) {
    failElement(
      0,
      field,
      `expected shape ${showShape(spec.shape)} per element (without the batch dimension), got ${showShape(shape)}.`,
    );
  }
  if (spec.dtype !== undefined && !NUMERIC.includes(spec.dtype)) {
    failElement(0, field, `the model's input dtype '${spec.dtype}' is not supported (float32, int32 and bool are).`);
  }
  const typed = elements.find((e) => e.kind === 'tensor' || e.kind === 'typed');
  const dtype = (spec.dtype ?? (typed && 'dtype' in typed ? typed.dtype : 'float32')) as TfjsNumericDType;
  for (const [i, e] of elements.entries()) {
    if ((e.kind === 'tensor' || e.kind === 'typed') && e.dtype !== dtype) {
      failElement(i, field, `expected dtype ${dtype}${spec.dtype ? " (the model's)" : ''}, got ${e.dtype}.`);
    }
  }
  const batchShape = [elements.length, ...shape];
  if (elements.every((e) => e.kind === 'tensor')) {
    return {
      name: field,
      shape: batchShape,
      dtype,
      tensors: elements.map((e) => (e.kind === 'tensor' ? e.tensor : e)) as Tensor[],
    };
  }
  const size = sizeOf(shape);
  const values = allocate(dtype, elements.length * size);
  for (const [i, e] of elements.entries()) {
    const offset = i * size;
    if (e.kind === 'typed') {
      if (checkFinite && dtype === 'float32') checkFiniteTyped(e.data, i, field);
      values.set(e.data, offset);
    } else if (e.kind === 'tensor') {
      values.set(download(e.tensor), offset);
    } else if (e.kind === 'numbers') {
      fillNumbers(values, offset, e.data, dtype, checkFinite, i, field);
    } else {
      fillNested(values, offset, e.data, shape, dtype, checkFinite, i, field);
    }
  }
  return { name: field, shape: batchShape, dtype, values };
}

/**
 * Validates a batch against the model's declared inputs and packs each input into one buffer (one copy per element,
 * no per-element tensors). Throws `InvalidExampleError` (with the position and input name) before any tensor exists.
 */
export function packBatch(
  batch: readonly unknown[],
  inputs: readonly TfjsInputSpec[],
  checkFinite: boolean,
  download: (t: Tensor) => TfjsTypedArray,
): PackedInput[] {
  if (batch.length === 0)
    throw new InvalidExampleError('Cannot run the model on an empty batch.', undefined, undefined);
  const described = batch.map((example, i) => inputsOf(example, i, inputs));
  return inputs.map((spec, k) =>
    packOne(
      described.map((d) => d[k] as DescribedInput),
      spec,
      checkFinite,
      download,
    ),
  );
}
