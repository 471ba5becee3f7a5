import { basename, extname } from 'node:path';
import { concat, of, type Observable } from 'rxjs';
import type { ModelMetadata } from '../index.js';
import { watchFilePattern } from '../operators/index.js';

/**
 * `--watch`: the model the command started with, then each newer file matching `pattern` (polled every
 * `intervalMs`), as the `modelMetadata` side input of `runInference`.
 */
export function watchedModels(
  model: string,
  pattern: string,
  intervalMs: number,
  log: (text: string) => void,
): Observable<ModelMetadata> {
  const first: ModelMetadata = { modelId: model, modelName: basename(model, extname(model)) };
  const refreshes = watchFilePattern(pattern, {
    intervalMs,
    initial: 'none',
    onError: (error) => log(`--watch: ${error.message} (polling goes on)`),
  });
  return concat(of(first), refreshes);
}
