/**
 * `NaN`, `Infinity` or `-Infinity` (at an index, when the value is in an array), and how to allow it: the reason
 * without a final period, for messages that go on after it.
 */
export function nonFiniteReason(value: number, index?: number): string {
  const at = index === undefined ? '' : ` at index ${index}`;
  return `expected a finite number, got \`${String(value)}\`${at} (set \`allowNonFinite: true\` to accept NaN and Infinity)`;
}

/** The tail of the error message: {@link nonFiniteReason} as a sentence. */
export function nonFiniteMessage(value: number, index?: number): string {
  return `${nonFiniteReason(value, index)}.`;
}
