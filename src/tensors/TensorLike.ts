import type { TensorType, TensorTypedArray } from './TensorType.js';

/**
 * A tensor of one element, without the batch axis: its data (row-major) and dims, and optionally its type. Without
 * `type`, the type follows the array (`Float32Array` → `'float32'`, …); a `Uint8Array` also fits a `bool` input and a
 * `Uint16Array` a `float16` input. An `ort.Tensor` has this shape too.
 *
 * @example
 * const example: TensorLike = { data: Float32Array.of(0.1, 0.2, 0.3), dims: [3] };
 */
export interface TensorLike {
  /** The element's values, row-major. */
  readonly data: TensorTypedArray | readonly string[];
  /** The element's dims (no batch axis); their product is `data.length`. */
  readonly dims: readonly number[];
  /** Element type. @default inferred from `data` */
  readonly type?: TensorType;
}

/** True when `value` is tensor-shaped (`{ data, dims: number[] }`): an `ort.Tensor` or a `TensorLike`. */
export function isTensorLike(value: unknown): value is TensorLike {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return false;
  const v = value as { dims?: unknown; data?: unknown };
  return Array.isArray(v.dims) && (ArrayBuffer.isView(v.data) || Array.isArray(v.data));
}
