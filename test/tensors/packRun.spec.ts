import { packRun } from '../../src/tensors/packRun';
import { readBatch } from '../../src/tensors/readBatch';
import { TensorBufferPool } from '../../src/tensors/TensorBufferPool';
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

  it('stacks into a pooled buffer, writing zeros over the previous values in the padding rows (any dtype)', () => {
    const pool = new TensorBufferPool();
    const full = packRun(readBatch(rows(4), inputs), inputs, 0, 4, 4, pool);
    pool.release('float32', full.x.data as Float32Array);
    const { x } = packRun(readBatch(rows(6), inputs), inputs, 4, 6, 4, pool);
    const data = x.data as Float32Array;
    expect(data.buffer).toBe((full.x.data as Float32Array).buffer);
    expect([data[0], data[199], data[200], data[399]]).toEqual([4, 5, 0, 0]);
    expect(data.subarray(200).every((v) => v === 0)).toBe(true);

    const ids: TensorInputSpec[] = [{ name: 'ids', type: 'int64', shape: [3, 2] }];
    const id = (v: bigint) => ({ type: 'int64' as const, data: BigInt64Array.of(v, v), dims: [2] });
    const three = packRun(readBatch([id(1n), id(2n), id(3n)], ids), ids, 0, 3, 3, pool);
    pool.release('int64', three.ids.data as BigInt64Array);
    const one = packRun(readBatch([id(7n)], ids), ids, 0, 1, 3, pool).ids.data as BigInt64Array;
    expect(one.buffer).toBe((three.ids.data as BigInt64Array).buffer);
    expect(Array.from(one)).toEqual([7n, 7n, 0n, 0n, 0n, 0n]);
  });
});
