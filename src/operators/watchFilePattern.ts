import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { types } from 'node:util';
import { asyncScheduler, Observable } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import { describeValue, toError } from '../core/errors.js';
import type { ModelMetadata } from '../core/types.js';
import { checkFunction, checkNumber, checkObject, checkOneOf, checkScheduler } from '../core/validate.js';

/** Options of {@link watchFilePattern}. */
export interface WatchFilePatternConfig {
  /**
   * Time from the end of one poll to the start of the next, in milliseconds. Shorter than Beam's 360 s: listing a
   * local or mounted directory is cheap (Beam's default reflects billed GCS listings), and a new model going live
   * within a minute is what deployments expect.
   * @default 60000
   */
  readonly intervalMs?: number;
  /** Scheduler of the polls (a `TestScheduler` or `VirtualTimeScheduler` in tests). @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
  /**
   * What to emit at the start:
   * - `'newest'`: the newest file that already matches, found by the first poll (nothing while nothing matches);
   * - `'default'` (Beam's `WatchFilePattern`): at once, `{ modelId: '', modelName: '' }` — "the handler's default
   *   model" — then only files newer than those that matched at the first poll;
   * - `'none'`: nothing; then only files newer than those that matched at the first poll.
   *
   * As `runInference`'s `modelMetadata`, `'newest'` holds elements until a matching file exists (the side input has
   * no value before); `'default'` starts on the handler's own model at once, as Beam does.
   * @default 'newest'
   */
  readonly initial?: 'newest' | 'default' | 'none';
  /**
   * Called with the error of a failed poll (a glob or `stat` failure other than a file vanishing); polling then goes
   * on at the next interval, so a transient file-system fault does not stop model refresh. Without it, a failed poll
   * errors the stream (nothing fails silently). An error thrown by `onError` itself errors the stream.
   * @default undefined
   */
  readonly onError?: (error: Error) => void;
  /** Directory that a relative `pattern` is resolved against. @default process.cwd() */
  readonly cwd?: string;
}

interface FileVersion {
  readonly path: string;
  readonly mtimeMs: number;
}

/** Newer by mtime; equal mtimes are ordered by path (the greater path is the newer). */
function isNewer(a: FileVersion, b: FileVersion): boolean {
  return a.mtimeMs !== b.mtimeMs ? a.mtimeMs > b.mtimeMs : a.path > b.path;
}

/** One poll: the newest matching regular file, or `undefined` when none matches. */
async function findNewest(pattern: string, cwd: string, signal: AbortSignal): Promise<FileVersion | undefined> {
  // Loaded at the first poll, not with the package: only users of watchFilePattern load glob (and bundle it).
  const { glob } = await import('glob');
  const paths = await glob(pattern, { cwd, absolute: true, nodir: true, signal });
  const versions = await Promise.all(
    paths.map(async (path): Promise<FileVersion | undefined> => {
      try {
        // stat, not lstat: a symlink `latest.onnx -> v3.onnx` counts with its target's time.
        const s = await stat(path);
        return s.isFile() ? { path, mtimeMs: s.mtimeMs } : undefined;
      } catch (error) {
        // Deleted between listing and stat: not a model any more, not a fault.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    }),
  );
  let newest: FileVersion | undefined;
  for (const v of versions) if (v !== undefined && (newest === undefined || isNewer(v, newest))) newest = v;
  return newest;
}

/** `toError`, keeping errors made in another realm (Node's own fs errors under jest, `vm` contexts) as they are. */
function asError(error: unknown): Error {
  return types.isNativeError(error) ? error : toError(error);
}

function toMetadata(path: string): ModelMetadata {
  return { modelId: path, modelName: basename(path, extname(path)) };
}

/**
 * Watches a glob pattern and emits {@link ModelMetadata} for each new newest model file: Beam's `WatchFilePattern`,
 * for RxJS. Feed it to `runInference`'s `modelMetadata` for automatic model refresh.
 *
 * Polls `pattern` (a `glob` pattern: `*`, `**`, `?`, `[...]`, `{a,b}`; use `/` as separator) at subscription and then
 * `intervalMs` after each poll ends, so at most one poll is ever in flight. A file is newer than another when its
 * modification time is later (equal times: the greater path wins). A poll emits the newest file only when it is newer
 * than the last one emitted (or, for `initial: 'default' | 'none'`, than the newest one at the first poll): nothing
 * while nothing matches, nothing on a poll that finds no newer file, and no rollback when the newest file is deleted.
 * `modelId` is the file's absolute path, `modelName` its name without extension (`/models/resnet-v2.onnx` →
 * `'resnet-v2'`, which becomes the metrics prefix).
 *
 * As in Beam, give each model version a new file name: rewriting a file that was already emitted is not emitted
 * again (its `modelId` would not change, so `runInference` would not reload it). Write the file under a name the
 * pattern does not match and rename it when complete, so a poll never sees half a model; tools that keep the source
 * time (`cp -p`, `rsync -t`) can make a new file look old.
 *
 * With `intervalMs: 10`, `a.onnx` present at subscription, `b.onnx` (newer) written at 25 ms, `b.onnx` deleted at
 * 45 ms and `c.onnx` written at 55 ms (polls at 0, 10, 20, …):
 *
 * ```text
 * output:  a 29ms b 29ms c
 * ```
 * (`a` at 0, `b` at the 30 ms poll, nothing when `b` goes, `c` at the 60 ms poll.)
 *
 * Never completes. A failed poll errors the stream unless `onError` is given (then polling goes on). Unsubscribing
 * cancels the next poll, aborts the glob in flight and ignores its late result. Config is validated at call time.
 *
 * @example
 * ```ts
 * import { watchFilePattern, runInference } from 'rxjs-inference';
 *
 * requests$.pipe(
 *   runInference(new OnnxModelHandler({ modelUri: 'models/v1.onnx' }), {
 *     modelMetadata: watchFilePattern('models/*.onnx', { intervalMs: 30_000 }),
 *   }),
 * );
 * ```
 * @param pattern Glob of the model files (relative to `config.cwd`, or absolute).
 * @param config Interval, scheduler, initial emission, error handling, working directory.
 * @returns An Observable of model metadata that never completes.
 */
export function watchFilePattern(pattern: string, config: WatchFilePatternConfig = {}): Observable<ModelMetadata> {
  if (typeof pattern !== 'string' || pattern === '') {
    throw new TypeError(`Expected \`pattern\` to be a non-empty glob string, got ${describeValue(pattern)}.`);
  }
  checkObject('config', config);
  checkNumber('intervalMs', config.intervalMs, { min: 0, exclusiveMin: true });
  checkScheduler('scheduler', config.scheduler);
  checkOneOf('initial', config.initial, ['newest', 'default', 'none']);
  checkFunction('onError', config.onError);
  if (config.cwd !== undefined && (typeof config.cwd !== 'string' || config.cwd === '')) {
    throw new TypeError(`Expected \`cwd\` to be a non-empty string, got ${describeValue(config.cwd)}.`);
  }
  const { intervalMs = 60_000, scheduler = asyncScheduler, initial = 'newest', onError, cwd = process.cwd() } = config;

  return new Observable<ModelMetadata>((subscriber) => {
    // One controller per poll: glob adds an 'abort' listener per walk and never removes it, so a signal shared by
    // every poll would collect listeners (and Node's MaxListenersExceededWarning) over a long-running watch.
    let controller: AbortController | undefined;
    let closed = false;
    let timer: Subscription | undefined;
    let baselineTaken = initial === 'newest'; // 'newest': the first poll's file is emitted like any new one
    let last: FileVersion | undefined;

    const handle = (newest: FileVersion | undefined): void => {
      if (!baselineTaken) {
        baselineTaken = true;
        last = newest;
      } else if (newest !== undefined) {
        if (last !== undefined && newest.path === last.path) {
          last = newest; // the same file rewritten: tracked, not re-emitted
        } else if (last === undefined || isNewer(newest, last)) {
          last = newest;
          subscriber.next(toMetadata(newest.path));
        }
      }
    };

    const poll = (): void => {
      timer = undefined;
      controller = new AbortController();
      findNewest(pattern, cwd, controller.signal).then(
        (newest) => {
          if (closed) return;
          handle(newest);
          next();
        },
        (error: unknown) => {
          if (closed) return;
          if (onError === undefined) {
            subscriber.error(asError(error));
            return;
          }
          try {
            onError(asError(error));
          } catch (thrown) {
            subscriber.error(asError(thrown));
            return;
          }
          next();
        },
      );
    };
    const next = (): void => {
      if (!closed) timer = scheduler.schedule(poll, intervalMs);
    };

    if (initial === 'default') subscriber.next({ modelId: '', modelName: '' });
    poll();

    return () => {
      closed = true;
      timer?.unsubscribe();
      controller?.abort();
    };
  });
}
