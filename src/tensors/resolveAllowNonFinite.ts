import { checkBoolean } from '../core/validate.js';

/**
 * Whether a handler allows non-finite float inputs: `allowNonFinite` (default false), or the handler's deprecated
 * option (`rejectNaN`/`checkFinite`, whose `true` means reject) when only that one is given.
 *
 * The one NaN/±Infinity rule of every handler and the CLI: float inputs holding NaN or ±Infinity are rejected (an
 * `InvalidExampleError` naming the element and the field) unless `allowNonFinite: true`. Integer dtypes are not checked.
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
