import { from, type Observable } from 'rxjs';
import { arrivesLater } from '../models/inferenceOutputs.js';

export { isThenable } from '../models/inferenceOutputs.js';

/**
 * A batch result as an Observable of what it delivers (arrays of outputs, partial outputs), or `undefined` when it came
 * synchronously: then it is the array of outputs, or — a handler bug the caller reports — something that is not one.
 */
export function asyncOutputs(result: unknown): Observable<unknown> | undefined {
  return arrivesLater(result) ? from(result as PromiseLike<unknown>) : undefined;
}
