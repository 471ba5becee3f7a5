import { checkBoolean } from './validate.js';

/**
 * The one NaN/±Infinity rule of every handler and the CLI: float inputs holding NaN or ±Infinity are rejected (an
 * `InvalidExampleError` naming the element and the field) unless `allowNonFinite: true`. Integer dtypes are not checked.
 */

/** Index of the first NaN or ±Infinity in `values`, or -1. One pass; `v - v` is 0 for finite numbers only. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) return i;
  }
  return -1;
}

/** `NaN`, `Infinity` or `-Infinity` at an index, and how to allow it: the tail of the error message. */
export function nonFiniteMessage(value: number, index: number): string {
  return `expected a finite number, got \`${String(value)}\` at index ${index} (set \`allowNonFinite: true\` to accept NaN and Infinity).`;
}

/**
 * Whether a handler allows non-finite float inputs: `allowNonFinite` (default false), or the handler's deprecated
 * option (`rejectNaN`/`checkFinite`, whose `true` means reject) when only that one is given.
 */
export function resolveAllowNonFinite(
  allowNonFinite: unknown,
  deprecatedName: string,
  deprecatedRejects: unknown,
): boolean {
  checkBoolean('allowNonFinite', allowNonFinite);
  checkBoolean(deprecatedName, deprecatedRejects);
  if (allowNonFinite !== undefined) return allowNonFinite as boolean;
  if (deprecatedRejects !== undefined) return !(deprecatedRejects as boolean);
  return false;
}
