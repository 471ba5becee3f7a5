import { writeFile } from 'node:fs/promises';
import { isLeft } from 'fp-ts/lib/Either.js';
import { type Subscription, tap } from 'rxjs';
import { withExceptionHandling } from '../operators/index.js';
import type { CliIO } from './CliIO.js';
import { describeFailure, formatDeadLetter, lineOfFailure } from './formatDeadLetter.js';
import { message, preparePredict } from './preparePredict.js';
import type { PredictOptions } from './PredictOptions.js';
import { ProgressReporter } from './ProgressReporter.js';
import { formatSummary, summarize, type RunSummary } from './summarize.js';
import { MetricsRegistry } from '../index.js';
import { INTERRUPTED, interruption } from './interruption.js';
import {
  EXIT_BROKEN_PIPE,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_RECORDS_FAILED,
  EXIT_USAGE,
  InterruptedError,
  UsageError,
} from './UsageError.js';

/** Failures described on standard error when there is no `--dead-letter` file. */
const MAX_FAILURES_SHOWN = 20;

/**
 * Runs `rxjs-inference predict`: reads JSON lines, runs the model on them through
 * `withExceptionHandling(runInference(...))`, writes one output line per good record and one dead letter per bad
 * one, and returns the exit code (0 all good, 1 some records failed, 2 usage or model error, 130 interrupted).
 */
export async function predict(options: PredictOptions, io: CliIO): Promise<number> {
  // Once the progress reporter runs, every message goes through it (above a bar, never over it).
  const shown: { progress?: ProgressReporter } = {};
  const log = (text: string): void =>
    shown.progress === undefined
      ? void io.stderr.write(`rxjs-inference: ${text}\n`)
      : shown.progress.log(`rxjs-inference: ${text}`);
  const started = performance.now();
  const prepared = preparePredict(options, io, log).catch((error: unknown) => {
    if (error instanceof InterruptedError) return INTERRUPTED;
    log(error instanceof UsageError ? error.message : `cannot load model \`${options.model}\`: ${message(error)}`);
    return undefined;
  });
  // A signal while the model loads ends the job at once (the load, if it ends, releases its model).
  const setup = await Promise.race([prepared, interruption(io.signal)]);
  if (setup === undefined) return EXIT_USAGE;
  if (setup === INTERRUPTED) {
    // The load goes on in the background (the executable exits at once): whatever it opens is closed when it ends.
    void prepared.then((late) => (late === undefined || late === INTERRUPTED ? undefined : abandon(late)));
    log('interrupted while the model loaded: no record was read.');
    const summary = summarize(new MetricsRegistry(), {
      recordsIn: 0,
      recordsOut: 0,
      recordsFailed: 0,
      recordsNotWritten: 0,
      blankLines: 0,
      elapsedMs: performance.now() - started,
      models: [],
      modelLoadMs: [],
    });
    await report(summary, options, io, log, {
      output: options.output ?? 'standard output',
      deadLetter: options.deadLetter,
    });
    // A Redis worker asked to stop is a success (it held nothing yet).
    return /^rediss?:\/\//i.test(options.input ?? '') ? EXIT_OK : EXIT_INTERRUPTED;
  }
  const { source, output, deadLetter, operator, parser, total } = setup;

  let recordsIn = 0;
  let finished = 0;
  let failed = 0;
  let fatal: string | undefined;
  // The output's reader went away (EPIPE, `| head -1`): stop quietly, as Unix tools do.
  let brokenPipe = false;
  const models: string[] = [];
  const resumeIfRoom = (): void => {
    if (source.isPaused && !output.blocked && !deadLetter?.blocked && recordsIn - finished <= options.maxInFlight / 2) {
      source.resume();
    }
  };
  output.configure(() => source.pause(), resumeIfRoom);
  deadLetter?.configure(() => source.pause(), resumeIfRoom);

  const progress = new ProgressReporter({
    stream: io.stderr,
    tty: setup.progress === 'bar',
    total,
    intervalMs: options.progressIntervalMs,
    counts: () => ({ lines: source.linesRead, done: finished, failed }),
    now: () => performance.now(),
  });
  if (setup.progress !== 'off') progress.begin();
  shown.progress = progress;

  let subscription: Subscription | undefined;
  const interrupted = await new Promise<boolean>((resolve) => {
    const stop = (reason: string): void => {
      fatal ??= reason;
      subscription?.unsubscribe();
      resolve(false);
    };
    output.onError = (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') return stop(`cannot write the output: ${error.message}`);
      brokenPipe = true;
      subscription?.unsubscribe();
      resolve(false);
    };
    if (deadLetter !== undefined)
      deadLetter.onError = (error) => stop(`cannot write the dead letters: ${error.message}`);
    const onAbort = (): void => {
      // A Redis worker stops reading, finishes and acknowledges what it holds, then completes.
      if (source.drain !== undefined) return source.drain();
      subscription?.unsubscribe();
      resolve(true);
    };
    io.signal?.addEventListener('abort', onAbort, { once: true });
    subscription = source.lines$
      .pipe(
        tap(() => {
          recordsIn++;
          if (recordsIn - finished >= options.maxInFlight) source.pause();
        }),
        withExceptionHandling(operator),
      )
      .subscribe({
        next: (result) => {
          finished++;
          if (isLeft(result)) {
            failed++;
            const failure = result.left;
            const line = lineOfFailure(failure, parser.recordOf);
            if (deadLetter !== undefined) {
              deadLetter.writer.write(
                formatDeadLetter(failure, line, {
                  maxRawLength: options.maxRawLength,
                  hasId: options.idField !== undefined,
                }),
                line,
              );
            } else if (failed <= MAX_FAILURES_SHOWN) {
              // Above the progress bar, never over it.
              progress.log(describeFailure(failure, line));
            }
          } else {
            const { json, modelId, record } = result.right;
            output.writer.write(json, record);
            if (modelId !== undefined && models[models.length - 1] !== modelId) {
              models.push(modelId);
              if (models.length > 1 && !options.quiet) log(`now serving model ${modelId}`);
            }
          }
          resumeIfRoom();
        },
        error: (error: unknown) => stop(message(error)),
        complete: () => resolve(false),
      });
    if (subscription.closed) io.signal?.removeEventListener('abort', onAbort);
    // A signal that came while the model was loading: act on it now (a Redis worker would otherwise never stop).
    else if (io.signal?.aborted === true) onAbort();
  });
  const elapsedMs = performance.now() - started;
  progress.end();
  await setup.models.releaseUnclaimed();
  if (brokenPipe) await deadLetter?.writer.end();
  else await Promise.all([output.writer.end(), deadLetter?.writer.end()]);
  if (!brokenPipe && deadLetter === undefined && failed > MAX_FAILURES_SHOWN) {
    log(`... and ${failed - MAX_FAILURES_SHOWN} more failed records (use --dead-letter FILE to keep them all).`);
  }
  if (fatal !== undefined) log(`error: ${fatal}`);
  if (interrupted) log('interrupted: stopped reading; the output holds the records done so far.');

  const recordsOut = output.writer.count;
  const summary = summarize(setup.registry, {
    recordsIn,
    recordsOut,
    recordsFailed: failed,
    // Read, but neither written nor dead-lettered when the job stopped (a signal, or the output's reader went away).
    recordsNotWritten: Math.max(0, recordsIn - recordsOut - failed),
    blankLines: source.blankLines,
    elapsedMs,
    models,
    modelLoadMs: setup.models.loadTimesMs,
  });
  // `| head -1`: standard error stays quiet, as for a Unix tool killed by SIGPIPE; --summary-json is still written.
  await report(summary, { ...options, quiet: options.quiet || brokenPipe }, io, log, {
    output: setup.outputLabel,
    deadLetter: setup.deadLetterLabel,
  });
  if (brokenPipe) return EXIT_BROKEN_PIPE;
  if (interrupted) return EXIT_INTERRUPTED;
  if (fatal !== undefined) return EXIT_USAGE;
  // A worker's failed records are in the dead-letter stream: stopping it is a success.
  if (source.drain !== undefined) return EXIT_OK;
  return failed > 0 ? EXIT_RECORDS_FAILED : EXIT_OK;
}

/** Closes what a preparation that ended after an interrupt opened. */
async function abandon(setup: Awaited<ReturnType<typeof preparePredict>>): Promise<void> {
  await setup.models.releaseUnclaimed();
  await Promise.all([setup.output.writer.end(), setup.deadLetter?.writer.end()]);
}

/** The summary on standard error (unless `--quiet`) and in `--summary-json`. */
async function report(
  summary: RunSummary,
  options: PredictOptions,
  io: CliIO,
  log: (text: string) => void,
  labels: { output: string; deadLetter: string | undefined },
): Promise<void> {
  if (!options.quiet) io.stderr.write(formatSummary(summary, { verbose: options.verbose, ...labels }));
  if (options.summaryJson !== undefined) {
    await writeFile(options.summaryJson, JSON.stringify(summary, null, 2) + '\n').catch((error: unknown) =>
      log(`cannot write --summary-json: ${message(error)}`),
    );
  }
}
