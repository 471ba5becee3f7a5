import { firstNonFiniteInPlace } from '../../src/tensors/scannableFloats';
import { TensorBufferPool } from '../../src/tensors/TensorBufferPool';

describe('TensorBufferPool', () => {
  it('hands out a new zero-filled array when it holds no free buffer large enough', () => {
    const pool = new TensorBufferPool();
    const data = pool.acquire('float32', 6) as Float32Array;
    expect(data).toBeInstanceOf(Float32Array);
    expect(Array.from(data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(pool.size).toBe(0);
  });

  it('reuses a released buffer (a view of it, of the length asked) for the same type, values left as they were', () => {
    const pool = new TensorBufferPool();
    const first = pool.acquire('int32', 4) as Int32Array;
    first.set([1, 2, 3, 4]);
    pool.release('int32', first);
    expect(pool.size).toBe(1);
    expect((pool.acquire('float32', 4) as Float32Array).buffer).not.toBe(first.buffer); // another type: not shared
    const again = pool.acquire('int32', 3) as Int32Array;
    expect(again.buffer).toBe(first.buffer);
    expect(again.length).toBe(3);
    expect(Array.from(again)).toEqual([1, 2, 3]);
    expect(pool.size).toBe(0);
    // A larger request than any free buffer gets a new one.
    pool.release('int32', again);
    const larger = pool.acquire('int32', 5);
    expect(larger.length).toBe(5);
    expect((larger as Int32Array).buffer).not.toBe(first.buffer);
  });

  it('keeps at most maxFreePerType free buffers per type, the largest, and hands out the smallest that fits', () => {
    const pool = new TensorBufferPool(2);
    const [small, middle, large] = [2, 8, 32].map((n) => pool.acquire('int16', n) as Int16Array);
    pool.release('int16', middle);
    pool.release('int16', small);
    pool.release('int16', large);
    expect(pool.size).toBe(2); // the smallest was dropped
    expect((pool.acquire('int16', 2) as Int16Array).buffer).toBe(middle.buffer);
    expect((pool.acquire('int16', 2) as Int16Array).buffer).toBe(large.buffer);
    expect(pool.size).toBe(0);
  });

  it('puts float32 and float64 data in WebAssembly memory, which the NaN/Infinity scan reads in place', () => {
    const pool = new TensorBufferPool();
    for (const type of ['float32', 'float64'] as const) {
      const data = pool.acquire(type, 100) as Float32Array | Float64Array;
      expect(data.length).toBe(100);
      expect(firstNonFiniteInPlace(data)).toBe(-1);
      data[37] = NaN;
      expect(firstNonFiniteInPlace(data)).toBe(37);
      expect(firstNonFiniteInPlace(data.subarray(40))).toBe(-1);
      pool.release(type, data);
      const again = pool.acquire(type, 50) as Float32Array | Float64Array;
      expect(again.buffer).toBe(data.buffer);
      expect(firstNonFiniteInPlace(again)).toBe(37);
    }
    expect(firstNonFiniteInPlace(new Float32Array(100))).toBeUndefined(); // not scannable: the caller scans it
  });

  it('without scannableFloats, hands out plain float arrays, and reuses them the same way', () => {
    const pool = new TensorBufferPool(2, { scannableFloats: false });
    for (const type of ['float32', 'float64'] as const) {
      const data = pool.acquire(type, 100) as Float32Array | Float64Array;
      expect(data).toEqual(type === 'float32' ? new Float32Array(100) : new Float64Array(100));
      expect(firstNonFiniteInPlace(data)).toBeUndefined();
      pool.release(type, data);
      expect((pool.acquire(type, 60) as Float32Array).buffer).toBe(data.buffer);
    }
  });

  it('never pools strings, offset views or empty arrays, and takes a buffer back only once', () => {
    const pool = new TensorBufferPool();
    pool.release('string', pool.acquire('string', 3));
    pool.release('float32', new Float32Array(8).subarray(2));
    pool.release('float32', new Float32Array(0));
    expect(pool.size).toBe(0);
    const data = pool.acquire('float32', 4) as Float32Array;
    pool.release('float32', data);
    pool.release('float32', data);
    expect(pool.size).toBe(1);
    expect(pool.acquire('string', 2)).toEqual(['', '']);
  });

  it('does not keep buffers over MAX_KEPT_BYTES (a pool holds a bounded number of bytes)', () => {
    const pool = new TensorBufferPool();
    const huge = pool.acquire('uint8', TensorBufferPool.MAX_KEPT_BYTES + 1) as Uint8Array;
    pool.release('uint8', huge);
    expect(pool.size).toBe(0);
    const largest = pool.acquire('uint8', TensorBufferPool.MAX_KEPT_BYTES) as Uint8Array;
    pool.release('uint8', largest);
    expect(pool.size).toBe(1);
  });

  it('clear() drops every free buffer', () => {
    const pool = new TensorBufferPool();
    pool.release('uint8', pool.acquire('uint8', 4) as Uint8Array);
    pool.release('int64', pool.acquire('int64', 4) as BigInt64Array);
    expect(pool.size).toBe(2);
    pool.clear();
    expect(pool.size).toBe(0);
  });
});
