import { packRun } from '../../src/tensors/packRun';
import { readBatch } from '../../src/tensors/readBatch';
import type { TensorInputSpec } from '../../src/tensors/TensorInputSpec';

const inputs: TensorInputSpec[] = [{ name: 'x', type: 'float32', shape: ['batch', 100] }];
const rows = (n: number) => Array.from({ length: n }, (_, p) => new Float32Array(100).fill(p));

describe('packRun', () => {
  it('stacks elements [start, end) into one zero-padded buffer (the padding rows of a fixed-batch model are zeros)', () => {
    const batch = readBatch(rows(6), inputs);
    const { x } = packRun(batch, inputs, 2, 5, 4);
    expect(x.dims).toEqual([4, 100]);
    const data = x.data as Float32Array;
    expect([data[0], data[99], data[100], data[299], data[300], data[399]]).toEqual([2, 2, 3, 4, 0, 0]);
  });
});
