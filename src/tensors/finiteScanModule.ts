/**
 * The bytes of a tiny WebAssembly SIMD module that finds the first NaN or ±Infinity in a run of float32 or float64
 * values, assembled here (no download, no build step): the finite-value rule runs on every float input of every
 * batch, and a JavaScript loop over the values cost as much as a whole run of an Identity model (issue 11, P6).
 *
 * A float is NaN or ±Infinity exactly when all its exponent bits are set, so the scan is bit arithmetic: 16 float32
 * (or 8 float64) values per step in four 128-bit lanes (`v128.and` with the exponent mask, `i32x4.eq`/`i64x2.eq`
 * with it, `v128.or` of the four, `v128.any_true`), then a scalar loop from the step that hit for the exact index.
 *
 * Exports `scan32(byteOffset, count) → index | -1` and `scan64(byteOffset, count) → index | -1` over the imported
 * memory `env.memory`.
 */

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for `i32.const`/`i64.const` immediates within the int32 range). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** Signed LEB128 of a 64-bit constant given as a bigint. */
function sleb64(n: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

// Opcodes used (WebAssembly core 2.0 and its SIMD proposal).
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const RETURN = 0x0f;
const VOID = 0x40;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I64_CONST = 0x42;
const I32_LOAD = 0x28;
const I64_LOAD = 0x29;
const I32_EQ = 0x46;
const I64_EQ = 0x51;
const I32_GE_S = 0x4e;
const I32_ADD = 0x6a;
const I32_AND = 0x71;
const I32_SHL = 0x74;
const I64_AND = 0x83;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00];
const I32X4_SPLAT = [SIMD, 0x11];
const I64X2_SPLAT = [SIMD, 0x12];
const I32X4_EQ = [SIMD, 0x37];
const I64X2_EQ = [SIMD, ...uleb(214)];
const V128_AND = [SIMD, 0x4e];
const V128_OR = [SIMD, 0x50];
const V128_ANY_TRUE = [SIMD, 0x53];
const I32 = 0x7f;
const V128 = 0x7b;

/** One scan function: locals 0 = byte offset, 1 = count, 2 = i, 3 = count rounded down to a step, 4 = the mask. */
function scanBody(width: 4 | 8): number[] {
  const shift = width === 4 ? 2 : 3;
  const perStep = (16 / width) * 4; // values per step of four 128-bit loads
  const splat =
    width === 4
      ? [I32_CONST, ...sleb(0x7f800000), ...I32X4_SPLAT]
      : [I64_CONST, ...sleb64(0x7ff0000000000000n), ...I64X2_SPLAT];
  const laneEq = width === 4 ? I32X4_EQ : I64X2_EQ;
  const address = [LOCAL_GET, 0, LOCAL_GET, 2, I32_CONST, shift, I32_SHL, I32_ADD];
  // (load at +offset) & mask == mask, lane-wise
  const hits = (offset: number) => [
    ...address,
    ...V128_LOAD,
    0,
    ...uleb(offset),
    LOCAL_GET,
    4,
    ...V128_AND,
    LOCAL_GET,
    4,
    ...laneEq,
  ];
  const scalarHit =
    width === 4
      ? [...address, I32_LOAD, 2, 0, I32_CONST, ...sleb(0x7f800000), I32_AND, I32_CONST, ...sleb(0x7f800000), I32_EQ]
      : [
          ...address,
          I64_LOAD,
          3,
          0,
          I64_CONST,
          ...sleb64(0x7ff0000000000000n),
          I64_AND,
          I64_CONST,
          ...sleb64(0x7ff0000000000000n),
          I64_EQ,
        ];
  return [
    // locals: i (i32), steps end (i32), mask (v128)
    2,
    2,
    I32,
    1,
    V128,
    ...[LOCAL_GET, 1, I32_CONST, ...sleb(-perStep), I32_AND, LOCAL_SET, 3],
    ...[...splat, LOCAL_SET, 4],
    // vector steps: leave the block at the end or at the first step holding a hit
    ...[BLOCK, VOID, LOOP, VOID],
    ...[LOCAL_GET, 2, LOCAL_GET, 3, I32_GE_S, BR_IF, 1],
    ...hits(0),
    ...hits(16),
    ...V128_OR,
    ...hits(32),
    ...V128_OR,
    ...hits(48),
    ...V128_OR,
    ...V128_ANY_TRUE,
    ...[BR_IF, 1],
    ...[LOCAL_GET, 2, I32_CONST, ...sleb(perStep), I32_ADD, LOCAL_SET, 2, BR, 0],
    ...[END, END],
    // scalar loop from there: the exact index, or the tail past the last whole step
    ...[BLOCK, VOID, LOOP, VOID],
    ...[LOCAL_GET, 2, LOCAL_GET, 1, I32_GE_S, BR_IF, 1],
    ...scalarHit,
    ...[IF, VOID, LOCAL_GET, 2, RETURN, END],
    ...[LOCAL_GET, 2, I32_CONST, 1, I32_ADD, LOCAL_SET, 2, BR, 0],
    ...[END, END],
    ...[I32_CONST, ...sleb(-1), END],
  ];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

const name = (text: string) => {
  const bytes = Array.from(text, (c) => c.charCodeAt(0));
  return [...uleb(bytes.length), ...bytes];
};

/** The module's bytes: type `(i32, i32) → i32`, imported memory `env.memory`, functions `scan32` and `scan64`. */
export function finiteScanModule(): Uint8Array<ArrayBuffer> {
  const bodies = [scanBody(4), scanBody(8)].map((body) => [...uleb(body.length), ...body]);
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 2, I32, I32, 1, I32]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [2, 0, 0]),
    ...section(7, [2, ...name('scan32'), 0x00, 0, ...name('scan64'), 0x00, 1]),
    ...section(10, [2, ...bodies.flat()]),
  ]);
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * The module compiled once per process (for the scratch scanner of `firstNonFinite` and the in-place scanners of
 * `scannableFloats` alike), or `null` where WebAssembly or its SIMD instructions are unavailable.
 */
export function compiledFiniteScan(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(finiteScanModule());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}
