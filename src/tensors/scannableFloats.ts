import { compiledFiniteScan } from './finiteScanModule.js';
import type { FloatData } from './firstNonFinite.js';

type Scan = (byteOffset: number, count: number) => number;

/** The scan functions of each WebAssembly memory handed out, by its buffer. */
const scanners = new WeakMap<ArrayBuffer, { readonly scan32: Scan; readonly scan64: Scan }>();

/**
 * At most this many scannable arrays are alive at once, process-wide: each WebAssembly memory reserves about 10 GiB of
 * address space, and once V8 cannot reserve more, every further attempt costs it about 100 ms of garbage collection
 * before it fails. Past the bound, batches go to ordinary arrays (scanned by copying, as before).
 */
export const MAX_LIVE_SCANNABLE = 128;
let live = 0;
const collected = new FinalizationRegistry<undefined>(() => {
  live--;
});

/**
 * A new zero-filled float32 (`wide`: float64) array of `length` values in a WebAssembly memory of its own, which
 * {@link firstNonFiniteInPlace} scans where it lies: a batch stacked into it is checked for NaN and ±Infinity without
 * being copied again (issue 11). `undefined` where the SIMD scanner is unavailable or the memory cannot be had.
 */
export function allocateScannable(wide: boolean, length: number): FloatData | undefined {
  const module = compiledFiniteScan();
  if (module === null || length === 0 || live >= MAX_LIVE_SCANNABLE) return undefined;
  const bytes = length * (wide ? 8 : 4);
  try {
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    const { exports } = new WebAssembly.Instance(module, { env: { memory } });
    scanners.set(memory.buffer, exports as unknown as { scan32: Scan; scan64: Scan });
    live++;
    collected.register(memory.buffer, undefined);
    return wide ? new Float64Array(memory.buffer, 0, length) : new Float32Array(memory.buffer, 0, length);
  } catch {
    return undefined;
  }
}

/**
 * Index of the first NaN or ±Infinity in `data`, or -1, when `data` is a view of an array from
 * {@link allocateScannable} (scanned in place); `undefined` for any other array (scan it some other way).
 */
export function firstNonFiniteInPlace(data: FloatData): number | undefined {
  const scanner = scanners.get(data.buffer as ArrayBuffer);
  if (scanner === undefined) return undefined;
  return data.BYTES_PER_ELEMENT === 8
    ? scanner.scan64(data.byteOffset, data.length)
    : scanner.scan32(data.byteOffset, data.length);
}
