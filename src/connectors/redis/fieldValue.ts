/** An entry as Redis replies it: `[id, [field, value, field, value, …]]` (fields `null` for a deleted entry). */
export type RawEntry = [string, (string | null)[] | null];

/** The value of `field` in an entry's fields (`''` when absent or deleted). */
export function fieldValue(fields: readonly (string | null)[] | null, field: string): string {
  if (fields === null) return '';
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === field) return fields[i + 1] ?? '';
  return '';
}
