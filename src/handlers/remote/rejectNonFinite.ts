import { InvalidExampleError } from '../../core/errors.js';
import { firstNonFinite } from '../../tensors/firstNonFinite.js';
import { nonFiniteMessage } from '../../tensors/nonFiniteMessage.js';

/** Nesting followed at most (deeper values are sent as they are). */
const MAX_DEPTH = 64;

/** Where a NaN or ±Infinity is: the field path (`''` for the element itself), its index in an array, the value. */
interface NonFiniteAt {
  readonly field: string;
  readonly index: number | undefined;
  readonly value: number;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The first NaN or ±Infinity in numbers, float typed arrays, arrays and plain objects, depth first. */
function findNonFinite(value: unknown, field: string, depth: number, seen: Set<object>): NonFiniteAt | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { field, index: undefined, value };
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || seen.has(value)) return undefined;
  if (value instanceof Float32Array || value instanceof Float64Array) {
    const at = firstNonFinite(value);
    return at < 0 ? undefined : { field, index: at, value: value[at] };
  }
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'number') {
        if (!Number.isFinite(item)) return { field, index: i, value: item };
      } else if (item !== null && typeof item === 'object') {
        const found = findNonFinite(item, `${field}[${i}]`, depth + 1, seen);
        if (found !== undefined) return found;
      }
    }
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      const found = findNonFinite(
        (value as Record<string, unknown>)[key],
        field ? `${field}.${key}` : key,
        depth + 1,
        seen,
      );
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * The NaN/Infinity rule for remote models (the one every handler applies, README "Handling failures"): JSON cannot
 * carry NaN or ±Infinity (`JSON.stringify` sends `null`), so an element holding one — as a number, in a float typed
 * array, in an array or a plain object, at any depth — is rejected before any request with an `InvalidExampleError`
 * naming the field and the index. Returns the element unchanged otherwise. The handler runs it as its last preprocess
 * step (after the user's), unless `allowNonFinite: true`.
 */
export function rejectNonFinite<T>(element: T): T {
  const found = findNonFinite(element, '', 0, new Set());
  if (found === undefined) return element;
  const where = found.field === '' ? 'The element' : `Field \`${found.field}\``;
  // The shared tail ("expected a finite number, got `NaN` at index 5 (set `allowNonFinite: true` …)").
  const message = nonFiniteMessage(found.value, found.index);
  throw new InvalidExampleError(`${where}: ${message}`, undefined, found.field === '' ? undefined : found.field);
}
