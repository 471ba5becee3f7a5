import { allocateTensorData, bytesPerValue, viewTensorData } from './dtypeTable.js';
import { allocateScannable } from './scannableFloats.js';
import type { TensorType, TensorTypedArray } from './TensorType.js';

/**
 * Batch input buffers kept between runs (issue 11): a run's stacked input is only read while the runtime runs it, so
 * once the run has settled its buffer can stack the next batch instead of a new zero-filled one being allocated (and
 * collected) per batch. Keeps at most `maxFreePerType` free buffers per element type, the largest ones, so what it
 * holds is bounded by a few of the largest batches seen; `clear()` drops them all. String data is never pooled.
 *
 * Whoever acquires a buffer releases it only once nothing reads it any more: for onnxruntime-node, once `session.run`
 * has settled (it copies every CPU output into a new buffer, so outputs never alias an input).
 */
export class TensorBufferPool {
  /** Larger buffers are not kept: a pool holds at most `maxFreePerType` × this many bytes per type. */
  static readonly MAX_KEPT_BYTES = 64 * 1024 * 1024;

  /** Free buffers per type, smallest first. */
  private readonly free = new Map<TensorType, ArrayBuffer[]>();

  /**
   * @param maxFreePerType free buffers kept per element type
   * @param options.scannableFloats whether new float32/float64 buffers live in WebAssembly memory of their own, for
   *   the NaN/Infinity scan in place; without that check (`allowNonFinite`) plain arrays are enough. @default true
   */
  constructor(
    private readonly maxFreePerType = 2,
    private readonly options: { readonly scannableFloats?: boolean } = {},
  ) {}

  /**
   * An array for `length` values of `type`: a view of the smallest free buffer that holds them, whose values are
   * whatever the last batch left (the caller writes every value, padding included), else a new zero-filled array —
   * for float32 and float64 in WebAssembly memory of its own (`allocateScannable`), so that the NaN/Infinity rule
   * scans the stacked batch where it lies (`checkStackedFinite`), unless the pool was made without `scannableFloats`.
   */
  acquire(type: TensorType, length: number): TensorTypedArray | string[] {
    const list = type === 'string' ? undefined : this.free.get(type);
    if (list !== undefined && list.length > 0) {
      const bytes = length * bytesPerValue(type as Exclude<TensorType, 'string'>);
      for (let i = 0; i < list.length; i++) {
        if (list[i].byteLength >= bytes) {
          const [buffer] = list.splice(i, 1);
          return viewTensorData(type as Exclude<TensorType, 'string'>, buffer, length);
        }
      }
    }
    if ((type === 'float32' || type === 'float64') && this.options.scannableFloats !== false) {
      const scannable = allocateScannable(type === 'float64', length);
      if (scannable !== undefined) return scannable;
    }
    return allocateTensorData(type, length);
  }

  /**
   * Gives `data` (from `acquire`, no longer read by anyone) back for a later batch. String data, empty arrays and
   * buffers over `MAX_KEPT_BYTES` are not kept; past `maxFreePerType` free buffers of a type, the smallest is dropped.
   */
  release(type: TensorType, data: TensorTypedArray | string[]): void {
    if (type === 'string' || Array.isArray(data) || data.byteOffset !== 0 || data.byteLength === 0) return;
    const buffer = data.buffer as ArrayBuffer;
    if (buffer.byteLength > TensorBufferPool.MAX_KEPT_BYTES) return;
    let list = this.free.get(type);
    if (list === undefined) this.free.set(type, (list = []));
    if (list.includes(buffer)) return;
    let at = 0;
    while (at < list.length && list[at].byteLength < buffer.byteLength) at++;
    list.splice(at, 0, buffer);
    if (list.length > this.maxFreePerType) list.shift();
  }

  /** How many free buffers it holds (all types). */
  get size(): number {
    let count = 0;
    for (const list of this.free.values()) count += list.length;
    return count;
  }

  /** Drops every free buffer (the model that owned the pool was released). */
  clear(): void {
    this.free.clear();
  }
}
