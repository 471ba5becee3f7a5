import { compiledFiniteScan } from './finiteScanModule.js';

/** float32 or float64 tensor data: the only dtypes the finite-value rule checks. */
export type FloatData = Float32Array | Float64Array;

interface Scanner {
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  scan32(byteOffset: number, count: number): number;
  scan64(byteOffset: number, count: number): number;
}

/** Scratch memory the values are copied into for the scan: fixed (never grown, so the views never detach). */
const SCRATCH_BYTES = 4 * 65536;

/** Below this many values, a JavaScript loop beats a copy into the scratch memory and a call into WebAssembly. */
const WASM_FROM = 64;

/** Elements shorter than this are checked by a JavaScript loop each (measured: 4 values 5 ns vs 13 ns). */
const SMALL_ELEMENT = 16;

let scanner: Scanner | null | undefined;

/** The WebAssembly SIMD scanner, or `null` where WebAssembly or its SIMD instructions are unavailable. */
function loadScanner(): Scanner | null {
  const module = compiledFiniteScan();
  if (module === null) return null;
  try {
    const memory = new WebAssembly.Memory({ initial: SCRATCH_BYTES / 65536, maximum: SCRATCH_BYTES / 65536 });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const exports = instance.exports as Pick<Scanner, 'scan32' | 'scan64'>;
    return {
      f32: new Float32Array(memory.buffer),
      f64: new Float64Array(memory.buffer),
      scan32: exports.scan32,
      scan64: exports.scan64,
    };
  } catch {
    return null;
  }
}

function jsScan(values: ArrayLike<number>, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const v = values[i];
    // v - v is 0 for finite numbers only (NaN - NaN and Infinity - Infinity are NaN).
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Index of the first NaN or ±Infinity of one float array, scanned in scratch-sized chunks. */
function wasmScan(s: Scanner, values: FloatData): number {
  const wide = values.BYTES_PER_ELEMENT === 8;
  const view = wide ? s.f64 : s.f32;
  const capacity = view.length;
  for (let from = 0; from < values.length; from += capacity) {
    const count = Math.min(capacity, values.length - from);
    view.set(from === 0 && count === values.length ? values : values.subarray(from, from + count));
    const at = wide ? s.scan64(0, count) : s.scan32(0, count);
    if (at >= 0) return from + at;
  }
  return -1;
}

/**
 * Index of the first NaN or ±Infinity in `values`, or -1. float32/float64 typed arrays of more than a few values are
 * scanned by a WebAssembly SIMD loop (16 values per step, about a tenth of a JavaScript loop's time; issue 11, P6),
 * anything else by a JavaScript loop.
 */
export function firstNonFinite(values: ArrayLike<number>): number {
  if (values.length >= WASM_FROM && ArrayBuffer.isView(values)) {
    if (scanner === undefined) scanner = loadScanner();
    if (scanner !== null) return wasmScan(scanner, values as unknown as FloatData);
  }
  return jsScan(values, 0, values.length);
}

/** Where the first NaN or ±Infinity of a column of elements is: the element's position, the index in its data. */
export interface NonFiniteAt {
  readonly position: number;
  readonly index: number;
  readonly value: number;
}

/**
 * The first NaN or ±Infinity among the float data of elements `[start, end)` of a column (all float32 or all
 * float64), or `undefined`. Whole elements are copied one after another into the scratch memory and scanned together,
 * so a batch of small elements costs one WebAssembly call per scratch-full instead of one per element.
 */
export function firstNonFiniteIn(column: ArrayLike<FloatData>, start: number, end: number): NonFiniteAt | undefined {
  if (scanner === undefined) scanner = loadScanner();
  const s = scanner;
  // Small elements: a JavaScript loop each costs less than a copy and a call per element.
  if (s === null || end <= start || column[start].length < SMALL_ELEMENT) {
    for (let p = start; p < end; p++) {
      const at = jsScan(column[p], 0, column[p].length);
      if (at >= 0) return { position: p, index: at, value: column[p][at] };
    }
    return undefined;
  }
  const wide = column[start].BYTES_PER_ELEMENT === 8;
  const view = wide ? s.f64 : s.f32;
  const capacity = view.length;
  let p = start;
  while (p < end) {
    const first = p;
    let filled = 0;
    // Pack whole elements while they fit; an element larger than the scratch is scanned on its own, in chunks.
    while (p < end && filled + column[p].length <= capacity) {
      view.set(column[p], filled);
      filled += column[p].length;
      p++;
    }
    if (p === first) {
      const at = firstNonFinite(column[p]);
      if (at >= 0) return { position: p, index: at, value: column[p][at] };
      p++;
      continue;
    }
    let at = wide ? s.scan64(0, filled) : s.scan32(0, filled);
    if (at >= 0) {
      // Name the element from the flat index: walk the packed elements' lengths.
      let q = first;
      while (at >= column[q].length) at -= column[q++].length;
      return { position: q, index: at, value: column[q][at] };
    }
  }
  return undefined;
}
