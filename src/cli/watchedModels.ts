import { statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { concat, filter, of, type Observable } from 'rxjs';
import type { ModelMetadata } from '../index.js';
import { watchFilePattern } from '../operators/index.js';

/**
 * `--watch`: the model the command started with, then each file matching `pattern` (polled every `intervalMs`) that
 * is newer than the start, as the `modelMetadata` side input of `runInference`.
 *
 * "Newer than the start" is decided by the file's time, not by the first poll: that poll is asynchronous and may end
 * after the job has started serving, and a file written in between would otherwise become the baseline and never load.
 */
export function watchedModels(
  model: string,
  pattern: string,
  intervalMs: number,
  log: (text: string) => void,
): Observable<ModelMetadata> {
  const startedAt = Date.now();
  const first: ModelMetadata = { modelId: model, modelName: basename(model, extname(model)) };
  const refreshes = watchFilePattern(pattern, {
    intervalMs,
    initial: 'newest',
    onError: (error) => log(`--watch: ${error.message} (polling goes on)`),
  }).pipe(
    // The first poll's newest file counts only when it is not the starting model and was written after the start.
    filter(
      (metadata, index) =>
        index > 0 || (resolve(metadata.modelId) !== resolve(model) && modifiedAfter(metadata.modelId, startedAt)),
    ),
  );
  return concat(of(first), refreshes);
}

function modifiedAfter(path: string, time: number): boolean {
  try {
    return statSync(path).mtimeMs > time;
  } catch {
    return false; // gone since the poll: the next poll decides
  }
}
