import { InvalidExampleError } from 'rxjs-inference';
import { checkFinite } from '../../src/tensors/checkFinite';
import { readBatch } from '../../src/tensors/readBatch';
import type { TensorInputSpec } from '../../src/tensors/TensorInputSpec';

const inputs: TensorInputSpec[] = [
  { name: 'x', type: 'float32', shape: ['batch', 100] },
  { name: 'i', type: 'int32', shape: ['batch', 2] },
];
const batchOf = (n: number, edit?: (x: Float32Array[]) => void) => {
  const xs = Array.from({ length: n }, () => new Float32Array(100).fill(0.5));
  edit?.(xs);
  return readBatch(
    xs.map((x) => ({ x, i: Int32Array.of(1, 2) })),
    inputs,
  );
};

describe('checkFinite (the NaN/Infinity rule over a batch)', () => {
  it('passes a batch of finite floats', () => {
    expect(() => checkFinite(batchOf(40), inputs)).not.toThrow();
  });

  it('names the first element holding NaN or ±Infinity, the input and the index, in the one message form', () => {
    const batch = batchOf(40, (xs) => {
      xs[33][7] = NaN;
      xs[21][99] = Infinity;
    });
    let error: unknown;
    try {
      checkFinite(batch, inputs);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidExampleError);
    expect(error).toMatchObject({
      position: 21,
      field: 'x',
      message:
        'Element 21 of the batch, input `x`: expected a finite number, got `Infinity` at index 99 (set `allowNonFinite: true` to accept NaN and Infinity).',
    });
  });
});
