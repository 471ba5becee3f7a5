import { writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { isLeft } from 'fp-ts/lib/Either.js';
import { concat, of, type Observable, type Subscription, tap } from 'rxjs';
import { MetricsRegistry, type ModelMetadata, type PredictionResult } from '../index.js';
import { runInference, watchFilePattern, withExceptionHandling } from '../operators/index.js';
import { describeFailure, formatDeadLetter } from './formatDeadLetter.js';
import { createOutputFormatter } from './formatOutput.js';
import { createInputMapping } from './inputMapping.js';
import { LineSource } from './LineSource.js';
import { LineWriter } from './LineWriter.js';
import { createHandler, loadModelSignature } from './loadModelSignature.js';
import { countLines, openInput, openOutput } from './openStreams.js';
import type { PredictOptions } from './PredictOptions.js';
import { ProgressReporter } from './ProgressReporter.js';
import { createRecordParser, type LineRecord } from './recordParser.js';
import { formatSummary, summarize } from './summarize.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_RECORDS_FAILED, EXIT_USAGE, UsageError } from './UsageError.js';

/** The process's streams, injectable so that the command runs in-process in tests. */
export interface CliIO {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable & { readonly isTTY?: boolean };
  /** Fires on SIGINT / SIGTERM: the job stops reading, writes what it has and reports. */
  readonly signal?: AbortSignal;
}

/** Failures described on standard error when there is no `--dead-letter` file. */
const MAX_FAILURES_SHOWN = 20;
/** Lines readline may still deliver after a pause (one 64 KB chunk of the shortest lines): queue slack. */
const READ_AHEAD = 65536;

interface CliResult {
  readonly record: LineRecord | undefined;
  readonly json: string;
  readonly modelId: string | undefined;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `rxjs-inference predict`: reads JSON lines, runs the model on them through
 * `withExceptionHandling(runInference(...))`, writes one output line per good record and one dead letter per bad
 * one, and returns the exit code (0 all good, 1 some records failed, 2 usage or model error, 130 interrupted).
 */
export async function predict(options: PredictOptions, io: CliIO): Promise<number> {
  const log = (text: string): void => void io.stderr.write(`rxjs-inference: ${text}\n`);
  const setup = await prepare(options, io, log).catch((error: unknown) => {
    log(error instanceof UsageError ? error.message : `cannot load model \`${options.model}\`: ${message(error)}`);
    return undefined;
  });
  if (setup === undefined) return EXIT_USAGE;
  const { source, output, deadLetter, operator, parser, total } = setup;

  let recordsIn = 0;
  let finished = 0;
  let failed = 0;
  let fatal: string | undefined;
  const models: string[] = [];
  const started = performance.now();
  const resumeIfRoom = (): void => {
    if (source.isPaused && !output.blocked && !deadLetter?.blocked && recordsIn - finished <= options.maxInFlight / 2) {
      source.resume();
    }
  };
  output.configure(() => source.pause(), resumeIfRoom);
  deadLetter?.configure(() => source.pause(), resumeIfRoom);

  const showProgress = options.progress && !options.quiet;
  const progress = new ProgressReporter({
    stream: io.stderr,
    tty: io.stderr.isTTY === true,
    total,
    intervalMs: options.progressIntervalMs,
    counts: () => ({ lines: source.linesRead, done: finished, failed }),
    now: () => performance.now(),
  });
  if (showProgress) progress.begin();

  let subscription: Subscription | undefined;
  const interrupted = await new Promise<boolean>((resolve) => {
    const stop = (reason: string): void => {
      fatal ??= reason;
      subscription?.unsubscribe();
      resolve(false);
    };
    output.onError = (error) => stop(`cannot write the output: ${error.message}`);
    if (deadLetter !== undefined)
      deadLetter.onError = (error) => stop(`cannot write the dead letters: ${error.message}`);
    const onAbort = (): void => {
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
            const record = parser.recordOf(failure.element) ?? (failure.element as LineRecord | undefined);
            const line = isLineRecord(record) ? record : undefined;
            if (deadLetter !== undefined) {
              deadLetter.writer.write(
                formatDeadLetter(failure, line, {
                  maxRawLength: options.maxRawLength,
                  hasId: options.idField !== undefined,
                }),
              );
            } else if (failed <= MAX_FAILURES_SHOWN) {
              log(describeFailure(failure, line).replace(/^rxjs-inference: /, ''));
            }
          } else {
            const { json, modelId } = result.right;
            output.writer.write(json);
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
  });
  const elapsedMs = performance.now() - started;
  progress.end();
  await Promise.all([output.writer.end(), deadLetter?.writer.end()]);
  if (deadLetter === undefined && failed > MAX_FAILURES_SHOWN) {
    log(`... and ${failed - MAX_FAILURES_SHOWN} more failed records (use --dead-letter FILE to keep them all).`);
  }
  if (fatal !== undefined) log(`error: ${fatal}`);
  if (interrupted) log('interrupted: stopped reading; the output holds the records done so far.');

  const summary = summarize(setup.registry, {
    recordsIn,
    recordsOut: output.writer.count,
    recordsFailed: failed,
    blankLines: source.blankLines,
    elapsedMs,
    models,
  });
  if (!options.quiet) {
    io.stderr.write(
      formatSummary(summary, {
        verbose: options.verbose,
        output: options.output ?? 'standard output',
        deadLetter: options.deadLetter,
      }),
    );
  }
  if (options.summaryJson !== undefined) {
    await writeFile(options.summaryJson, JSON.stringify(summary, null, 2) + '\n').catch((error: unknown) =>
      log(`cannot write --summary-json: ${message(error)}`),
    );
  }
  if (interrupted) return EXIT_INTERRUPTED;
  if (fatal !== undefined) return EXIT_USAGE;
  return failed > 0 ? EXIT_RECORDS_FAILED : EXIT_OK;
}

function isLineRecord(x: unknown): x is LineRecord {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as LineRecord).line === 'number' &&
    typeof (x as LineRecord).text === 'string'
  );
}

/** A writer whose backpressure callbacks are wired once the flow control exists. */
class Sink {
  private blockedHook: () => void = () => undefined;
  private drainHook: () => void = () => undefined;
  onError: (error: Error) => void = () => undefined;
  readonly writer: LineWriter;

  constructor(stream: Writable, close: boolean) {
    this.writer = new LineWriter(stream, {
      close,
      onBlocked: () => this.blockedHook(),
      onDrain: () => this.drainHook(),
      onError: (error) => this.onError(error),
    });
  }

  get blocked(): boolean {
    return this.writer.blocked;
  }

  configure(onBlocked: () => void, onDrain: () => void): void {
    this.blockedHook = onBlocked;
    this.drainHook = onDrain;
  }
}

/** Opens the streams, loads the model's signature and builds the operator: every usage or model error is thrown here. */
async function prepare(options: PredictOptions, io: CliIO, log: (text: string) => void) {
  const fromFile = options.input !== undefined && options.input !== '-';
  const input = fromFile ? await openInput(options.input!) : { stream: io.stdin, isFile: false };
  const { handler, runtime } = await createHandler({ ...options, log, verbose: options.verbose });
  const signature = await loadModelSignature(handler, runtime);
  const mapping = createInputMapping(signature.inputs, options.inputFields, options.shapes);
  if (options.outputName !== undefined && !signature.outputNames.includes(options.outputName)) {
    throw new UsageError(
      `--output-name \`${options.outputName}\`: the model has no such output; its outputs: ` +
        `${signature.outputNames.map((n) => `\`${n}\``).join(', ')}.`,
    );
  }
  const parser = createRecordParser({
    mapping,
    runtime,
    maxLineLength: options.maxLineLength,
    idField: options.idField,
  });
  const format = createOutputFormatter({
    format: options.outputFormat,
    outputNames: signature.outputNames,
    outputName: options.outputName,
    topK: options.topK,
    softmax: options.softmax,
    precision: options.precision,
    includeModel: options.watch !== undefined,
  });
  const hasId = options.idField !== undefined;
  const cliHandler = handler
    .withPreprocessFn(parser.parse)
    .withPostprocessFn((result: PredictionResult<unknown, unknown>): CliResult => {
      const record = parser.recordOf(result.example);
      const meta = { line: record?.line ?? 0, id: record?.id, hasId };
      return { record, json: format(meta, result.inference, result.modelId), modelId: result.modelId };
    });
  const registry = new MetricsRegistry();
  let modelMetadata: Observable<ModelMetadata> | undefined;
  if (options.watch !== undefined) {
    const first: ModelMetadata = { modelId: options.model, modelName: basename(options.model, extname(options.model)) };
    const refreshes = watchFilePattern(options.watch, {
      intervalMs: options.watchIntervalMs,
      initial: 'none',
      onError: (error) => log(`--watch: ${error.message} (polling goes on)`),
    });
    modelMetadata = concat(of(first), refreshes);
  }
  const operator = runInference(cliHandler, {
    metrics: registry,
    concurrent: options.concurrent,
    maxBufferedElements: options.maxInFlight + READ_AHEAD,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(modelMetadata !== undefined && { modelMetadata }),
    onModelLoadError: (error, update) =>
      log(
        `model refresh failed, still serving the previous model: ${'modelId' in update ? update.modelId : ''}: ${error.message}`,
      ),
    batch: {
      ...(options.minBatchSize !== undefined && { minBatchSize: options.minBatchSize }),
      ...(options.maxBatchSize !== undefined && { maxBatchSize: options.maxBatchSize }),
      ...(options.maxBatchDurationMs !== undefined && { maxBatchDurationMs: options.maxBatchDurationMs }),
    },
  });
  const toStdout = options.output === undefined || options.output === '-';
  const output = new Sink(toStdout ? io.stdout : await openOutput(options.output!, '--output'), !toStdout);
  const deadLetter =
    options.deadLetter === undefined
      ? undefined
      : new Sink(await openOutput(options.deadLetter, '--dead-letter'), true);
  const showProgress = options.progress && !options.quiet;
  const total = showProgress && fromFile && input.isFile ? await countLines(options.input!) : undefined;
  return {
    source: new LineSource(input.stream, options.maxLineLength),
    output,
    deadLetter,
    operator,
    parser,
    total,
    registry,
  };
}
