/** Product of dims (1 for a scalar). */
export function sizeOfDims(dims: readonly number[]): number {
  let size = 1;
  for (const d of dims) size *= d;
  return size;
}

/** `[1, 2, 3]` as `[1, 2, 3]`; symbolic dims by name. */
export function formatDims(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

/** True when `dims` are non-negative integers holding `length` values. */
export function dimsFit(dims: readonly number[], length: number): boolean {
  let size = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) return false;
    size *= d;
  }
  return size === length;
}

/** True when `dims` match the declared shape without its batch axis (symbolic dims match any size). */
export function dimsMatch(dims: readonly number[], shape: readonly (number | string)[]): boolean {
  if (dims.length !== shape.length - 1) return false;
  for (let k = 0; k < dims.length; k++) {
    const d = shape[k + 1];
    if (typeof d === 'number' && d !== dims[k]) return false;
  }
  return true;
}

/** True when two dims lists are equal. */
export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
  return true;
}
