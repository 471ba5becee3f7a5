import { describeValue } from '../core/errors.js';
import { checkNumber, checkObject } from '../core/validate.js';
import type { PredictRequestOptions } from './Predictor.js';

/** Checks the options of one `predict` call (from JavaScript, where the compiler does not): `TypeError`/`RangeError`. */
export function checkPredictOptions(options: PredictRequestOptions | undefined): void {
  checkObject('options', options);
  checkNumber('timeoutMs', options?.timeoutMs, { min: 0, exclusiveMin: true });
  const signal = options?.signal;
  if (signal !== undefined && (signal === null || typeof (signal as AbortSignal).addEventListener !== 'function')) {
    throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(signal)}.`);
  }
}
