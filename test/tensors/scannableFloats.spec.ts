import { allocateScannable, firstNonFiniteInPlace, MAX_LIVE_SCANNABLE } from '../../src/tensors/scannableFloats';

describe('allocateScannable', () => {
  it('hands out zero-filled float arrays that firstNonFiniteInPlace scans where they lie (views too)', () => {
    const f32 = allocateScannable(false, 1000)!;
    const f64 = allocateScannable(true, 10)!;
    expect([f32.length, f32.BYTES_PER_ELEMENT, f64.length, f64.BYTES_PER_ELEMENT]).toEqual([1000, 4, 10, 8]);
    expect(f32.every((v) => v === 0)).toBe(true);
    expect(firstNonFiniteInPlace(f32)).toBe(-1);
    f32[999] = -Infinity;
    f64[3] = NaN;
    expect(firstNonFiniteInPlace(f32)).toBe(999);
    expect(firstNonFiniteInPlace(f32.subarray(990))).toBe(9);
    expect(firstNonFiniteInPlace(f32.subarray(0, 999))).toBe(-1);
    expect(firstNonFiniteInPlace(f64)).toBe(3);
    expect(firstNonFiniteInPlace(new Float64Array(4))).toBeUndefined();
    expect(allocateScannable(false, 0)).toBeUndefined();
  });

  it(`keeps at most ${MAX_LIVE_SCANNABLE} alive at once (each reserves address space), then declines`, () => {
    const held = [];
    let declined = false;
    for (let i = 0; i <= MAX_LIVE_SCANNABLE && !declined; i++) {
      const data = allocateScannable(false, 16);
      if (data === undefined) declined = true;
      else held.push(data);
    }
    expect(declined).toBe(true);
    expect(held.length).toBeLessThanOrEqual(MAX_LIVE_SCANNABLE);
    expect(held.length).toBeGreaterThan(0);
  });
});
