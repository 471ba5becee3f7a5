import * as ort from 'onnxruntime-node';
import { rate } from './stats';

/**
 * The hand-written baselines of the MLP scenarios, over `elements` (each `width` float32 values, the model's input
 * `input`). Each round runs exactly `elements.length` elements, as the library does: where `size` does not divide
 * that, a last, smaller batch (padding it ran more elements than the rate counts).
 */
export function rawLoops(elements: readonly Float32Array[], width: number) {
  const n = elements.length;
  const stacked = (count: number) => {
    const data = new Float32Array(count * width);
    for (let p = 0; p < count; p++) data.set(elements[p % n], p * width);
    return new ort.Tensor('float32', data, [count, width]);
  };
  return {
    /** The raw loop in its best form: inputs stacked ONCE per batch size, one `session.run` per batch, no split. */
    raw(size: number, session: ort.InferenceSession): () => Promise<number> {
      const input = stacked(size);
      const rest = n % size === 0 ? undefined : stacked(n % size);
      return () =>
        rate(n, async () => {
          for (let done = 0; done + size <= n; done += size) await session.run({ input });
          if (rest !== undefined) await session.run({ input: rest });
        });
    },
    /** The raw loop as a user writes it: a fresh buffer per batch, each element `set()` at its offset. */
    rawStacking(size: number, session: ort.InferenceSession): () => Promise<number> {
      return () =>
        rate(n, async () => {
          for (let done = 0; done < n; done += size) {
            const count = Math.min(size, n - done);
            const data = new Float32Array(count * width);
            for (let p = 0; p < count; p++) data.set(elements[done + p], p * width);
            await session.run({ input: new ort.Tensor('float32', data, [count, width]) });
          }
        });
    },
    /**
     * The raw loop stacking into ONE buffer allocated up front (each batch's elements `set()` over the last batch's):
     * the most an inline pipeline that copies each element into its batch can reach.
     */
    rawReusing(size: number, session: ort.InferenceSession): () => Promise<number> {
      const data = new Float32Array(size * width);
      return () =>
        rate(n, async () => {
          for (let done = 0; done < n; done += size) {
            const count = Math.min(size, n - done);
            for (let p = 0; p < count; p++) data.set(elements[done + p], p * width);
            const view = count === size ? data : data.subarray(0, count * width);
            await session.run({ input: new ort.Tensor('float32', view, [count, width]) });
          }
        });
    },
  };
}
