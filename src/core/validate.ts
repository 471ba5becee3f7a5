import { describeValue } from './errors.js';

// Config validation shared by every operator and handler: `TypeError` for a wrong type, `RangeError` for a
// value out of range, always naming the field: ``Expected `maxBatchSize` to be a positive integer, got `0` (number).``

function fail(kind: 'type' | 'range', field: string, expected: string, value: unknown): never {
  const message = `Expected \`${field}\` to be ${expected}, got ${describeValue(value)}.`;
  throw kind === 'type' ? new TypeError(message) : new RangeError(message);
}

/** Asserts a finite number within `[min, max]` (integers only when `integer`). `undefined` passes. */
export function checkNumber(
  field: string,
  value: unknown,
  { min = -Infinity, max = Infinity, integer = false, exclusiveMin = false, allowInfinity = false } = {},
  expected?: string,
): void {
  if (value === undefined) return;
  const description =
    expected ??
    (integer
      ? min === 1 || (min === 0 && exclusiveMin)
        ? 'a positive integer'
        : min === 0
          ? 'a non-negative integer'
          : 'an integer'
      : min === 0 && exclusiveMin
        ? 'a positive number'
        : min === 0
          ? 'a non-negative number'
          : 'a number');
  if (typeof value !== 'number' || Number.isNaN(value)) fail('type', field, description, value);
  if (!allowInfinity && !Number.isFinite(value)) fail('range', field, description, value);
  if (integer && Number.isFinite(value) && !Number.isInteger(value)) fail('range', field, description, value);
  if (value < min || (exclusiveMin && value === min) || value > max) {
    fail('range', field, max === Infinity ? description : `${description} at most ${max}`, value);
  }
}

/** Asserts a function. `undefined` passes. */
export function checkFunction(field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') fail('type', field, 'a function', value);
}

/** Asserts a boolean. `undefined` passes. */
export function checkBoolean(field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') fail('type', field, 'a boolean', value);
}

/** Asserts one of the given string literals. `undefined` passes. */
export function checkOneOf(field: string, value: unknown, allowed: readonly string[]): void {
  if (value === undefined) return;
  if (typeof value !== 'string') fail('type', field, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  if (!allowed.includes(value)) fail('range', field, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
}

/** Asserts a `SchedulerLike` (has `now()` and `schedule()`). `undefined` passes. */
export function checkScheduler(field: string, value: unknown): void {
  if (value === undefined) return;
  const s = value as { now?: unknown; schedule?: unknown } | null;
  if (s === null || typeof s !== 'object' || typeof s.now !== 'function' || typeof s.schedule !== 'function') {
    fail('type', field, 'a SchedulerLike (with now() and schedule())', value);
  }
}

/** Asserts a plain object (a config). `undefined` passes. */
export function checkObject(field: string, value: unknown): void {
  if (value !== undefined && (value === null || typeof value !== 'object')) fail('type', field, 'an object', value);
}

/**
 * Asserts that a config object (from JavaScript, where the compiler does not check) has only known keys: a misspelt
 * option (`{ concurent: 2 }`) would otherwise be ignored without a word. `TypeError` naming the unknown key, the
 * nearest known one, and every known key. `undefined` passes; call after {@link checkObject}.
 */
export function checkKnownKeys(what: string, config: unknown, known: Readonly<Record<string, true>>): void {
  if (config === undefined || config === null || typeof config !== 'object') return;
  for (const key of Object.keys(config)) {
    if (Object.prototype.hasOwnProperty.call(known, key)) continue;
    const names = Object.keys(known);
    const nearest = nearestName(key, names);
    throw new TypeError(
      `Unknown option \`${key}\` in ${what}${nearest === undefined ? '' : ` (did you mean \`${nearest}\`?)`}; ` +
        `known options: ${names.join(', ')}.`,
    );
  }
}

/** The known name `key` most likely misspells: within ~45 % edits of its length, or one containing the other. */
function nearestName(key: string, names: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const n = name.toLowerCase();
    const d = k.length >= 3 && (n.includes(k) || k.includes(n)) ? 0.5 : editDistance(k, n);
    if (d <= Math.max(1, Math.floor(k.length * 0.45)) && (best === undefined || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** Levenshtein distance (short option names only). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
