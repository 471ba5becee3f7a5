/** `NaN`, `Infinity` or `-Infinity` at an index, and how to allow it: the tail of the error message. */
export function nonFiniteMessage(value: number, index: number): string {
  return `expected a finite number, got \`${String(value)}\` at index ${index} (set \`allowNonFinite: true\` to accept NaN and Infinity).`;
}
