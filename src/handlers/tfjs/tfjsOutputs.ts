import type { Tensor } from '@tensorflow/tfjs';
import { InferenceError } from '../../core/errors.js';
import type { TfjsNumericDType, TfjsTypedArray } from './tfjsExamples.js';
import { showShape, sizeOf } from './tfjsExamples.js';
import type { TfjsModule } from './tfjsRuntime.js';

/**
 * One element's share of one model output, as plain data: no tensor to dispose. `data` is a view into the batch's
 * downloaded output buffer (shared by the elements of a batch, not by the model), `shape` has no batch dimension.
 */
export interface TfjsOutput {
  readonly data: TfjsTypedArray;
  readonly shape: readonly number[];
  readonly dtype: TfjsNumericDType;
}

/** `inference` of a result with `outputs: 'arrays'`: the output, or a record of output name → output. */
export type TfjsInference = TfjsOutput | Readonly<Record<string, TfjsOutput>>;

/** `inference` of a result with `outputs: 'tensors'`: tensors the caller must dispose. */
export type TfjsTensorInference = Tensor | Readonly<Record<string, Tensor>>;

function checkSplittable(output: Tensor, name: string, batchSize: number): void {
  if (output.shape[0] !== batchSize) {
    throw new InferenceError(
      `Output \`${name}\` has shape ${showShape(output.shape)}: its first dimension is not the batch size ` +
        `${batchSize}, so it cannot be split per element.`,
      batchSize,
    );
  }
  if (output.dtype !== 'float32' && output.dtype !== 'int32' && output.dtype !== 'bool') {
    throw new InferenceError(
      `Output \`${name}\` has dtype ${output.dtype}; only float32, int32 and bool outputs can be returned as ` +
        "arrays (use `outputs: 'tensors'`).",
      batchSize,
    );
  }
}

/** Assembles one element's inference from its per-output values: the value itself for a single output. */
function assemble<T>(names: readonly string[], values: readonly T[]): T | Readonly<Record<string, T>> {
  if (names.length === 1) return values[0] as T;
  const record: Record<string, T> = {};
  names.forEach((name, k) => (record[name] = values[k] as T));
  return record;
}

/**
 * Downloads each batched output once and splits it per element into views. `copy` detaches the download from the
 * backend's own storage (the cpu backend hands out its internal array, which a live tensor may share).
 * Does not dispose `outputs`.
 */
export async function splitToArrays(
  outputs: readonly Tensor[],
  names: readonly string[],
  batchSize: number,
  copy: boolean,
): Promise<TfjsInference[]> {
  outputs.forEach((o, k) => checkSplittable(o, names[k] as string, batchSize));
  const downloaded = await Promise.all(outputs.map((o) => o.data()));
  const perOutput = outputs.map((o, k) => {
    const data = copy ? (downloaded[k] as TfjsTypedArray).slice() : (downloaded[k] as TfjsTypedArray);
    const shape = o.shape.slice(1);
    const size = sizeOf(shape);
    const dtype = o.dtype as TfjsNumericDType;
    return Array.from({ length: batchSize }, (_, i): TfjsOutput => {
      return { data: data.subarray(i * size, (i + 1) * size), shape, dtype };
    });
  });
  return Array.from({ length: batchSize }, (_, i) =>
    assemble(
      names,
      perOutput.map((p) => p[i] as TfjsOutput),
    ),
  );
}

/** Splits each batched output into per-element tensors (owned by the caller). Does not dispose `outputs`. */
export function splitToTensors(
  tf: TfjsModule,
  outputs: readonly Tensor[],
  names: readonly string[],
  batchSize: number,
): TfjsTensorInference[] {
  for (const [k, o] of outputs.entries()) {
    if (o.shape[0] !== batchSize) checkSplittable(o, names[k] as string, batchSize);
  }
  const perOutput = tf.tidy(() => outputs.map((o) => tf.unstack(o)));
  return Array.from({ length: batchSize }, (_, i) =>
    assemble(
      names,
      perOutput.map((p) => p[i] as Tensor),
    ),
  );
}

/** Disposes what `splitToTensors` returned (results nobody will receive). */
export function disposeTensorInferences(results: readonly TfjsTensorInference[]): void {
  for (const r of results) {
    if (typeof (r as Tensor).dispose === 'function' && Array.isArray((r as Tensor).shape)) (r as Tensor).dispose();
    else for (const t of Object.values(r as Record<string, Tensor>)) t.dispose();
  }
}
