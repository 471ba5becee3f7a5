import { MetricsRegistry, type PredictionResult } from '../index.js';
import { runInference } from '../operators/index.js';
import type { CliIO } from './CliIO.js';
import { checkDistinctFiles } from './checkDistinctFiles.js';
import { createOutputFormatter } from './formatOutput.js';
import { createInputMapping } from './inputMapping.js';
import { LineSource } from './LineSource.js';
import { defaultMaxBatchSize } from './deviceOption.js';
import { loadJobModel } from './loadJobModel.js';
import { createHandler, signatureOf } from './loadModelSignature.js';
import { countLines, openInput, openOutput } from './openStreams.js';
import type { PredictOptions } from './PredictOptions.js';
import { createRecordParser, type LineRecord } from './recordParser.js';
import type { RecordSink, RecordSource } from './RecordStreams.js';
import { planRedisStreams } from './redis/openRedisStreams.js';
import { Sink } from './Sink.js';
import { UsageError } from './UsageError.js';
import { watchedModels } from './watchedModels.js';
import type { PreloadingModelHandler } from './PreloadingModelHandler.js';
import type { ModelSignature } from './loadModelSignature.js';
import type { Readable } from 'node:stream';

/** Lines readline may still deliver after a pause (one 64 KB chunk of the shortest lines): queue slack. */
const READ_AHEAD = 65536;

/** A Redis worker's default batch time bound: an entry never waits long for a batch to fill (docs/scale-out.md). */
const REDIS_MAX_BATCH_DURATION_MS = 50;

/** A bar on a terminal, plain lines otherwise, or nothing. */
export type ProgressMode = 'bar' | 'lines' | 'off';

/** What the command's postprocess step makes of each result. */
export interface CliResult {
  readonly record: LineRecord | undefined;
  readonly json: string;
  readonly modelId: string | undefined;
}

/** The message of anything thrown (the CLI imports only the public entry points, where core/errors `messageOf` is not). */
export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens the streams, loads the model (once, with no time bound: `--timeout-ms` bounds batches) and reads its signature,
 * and builds the operator: every usage or model error is thrown here. A signal while the model loads throws an
 * `InterruptedError` before any output is opened.
 */
export async function preparePredict(options: PredictOptions, io: CliIO, log: (text: string) => void) {
  checkDistinctFiles([
    { option: '--input', path: options.input },
    { option: '--output', path: options.output },
    { option: '--dead-letter', path: options.deadLetter },
    { option: '--summary-json', path: options.summaryJson },
  ]);
  const redis = planRedisStreams(options);
  const fromFile = redis === undefined && options.input !== undefined && options.input !== '-';
  const input = fromFile ? await openInput(options.input!) : { stream: io.stdin, isFile: false };
  if (!fromFile && redis === undefined && (io.stdin as { isTTY?: boolean }).isTTY === true && !options.quiet) {
    log('reading JSON lines from standard input (end with Ctrl-D; --input FILE to read a file)');
  }
  let job;
  try {
    const created = await createHandler({ ...options, log, verbose: options.verbose });
    // The id the engine asks for: the watched path, or the handler's default model.
    const modelId = options.watch !== undefined ? options.model : created.handler.defaultModelId() || undefined;
    job = await loadJobModel(created, modelId, (model) => signatureOf(model, created.runtime), io.signal);
  } catch (error) {
    input.stream.destroy();
    throw error;
  }
  try {
    return await build(options, io, log, input, job.handler, job.info);
  } catch (error) {
    input.stream.destroy();
    await job.handler.releaseUnclaimed();
    throw error;
  }
}

/** The rest of the preparation, once the model has loaded. */
async function build(
  options: PredictOptions,
  io: CliIO,
  log: (text: string) => void,
  input: { stream: Readable; isFile: boolean },
  handler: PreloadingModelHandler<any>,
  signature: ModelSignature,
) {
  const { runtime } = signature;
  const redis = planRedisStreams(options);
  const fromFile = redis === undefined && options.input !== undefined && options.input !== '-';
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
  const refreshFailed = (error: unknown, update: { modelId: string }): void =>
    log(`model refresh failed, still serving the previous model: ${update.modelId}: ${message(error)}`);
  // A watched model is loaded by the command before the engine is told of it: its load is not bounded either.
  const modelMetadata =
    options.watch === undefined
      ? undefined
      : handler.preloadEach(watchedModels(options.model, options.watch, options.watchIntervalMs, log), refreshFailed);
  let operator: ReturnType<typeof runInference>;
  try {
    operator = runInference(cliHandler, {
      metrics: registry,
      // Unless given: the handler's own (1 inline; with --workers N, 2N: each worker holds its next batch while it
      // runs one, and the main thread parses and stacks the one after — pipelining, issue 11).
      concurrent: options.concurrent,
      maxBufferedElements: options.maxInFlight + READ_AHEAD,
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(modelMetadata !== undefined && { modelMetadata }),
      onModelLoadError: (error, update) => refreshFailed(error, { modelId: 'modelId' in update ? update.modelId : '' }),
      batch: {
        ...(options.minBatchSize !== undefined && { minBatchSize: options.minBatchSize }),
        maxBatchSize: options.maxBatchSize ?? defaultMaxBatchSize(options.device),
        ...(options.maxBatchDurationMs !== undefined && { maxBatchDurationMs: options.maxBatchDurationMs }),
        ...(redis !== undefined &&
          options.maxBatchDurationMs === undefined && { maxBatchDurationMs: REDIS_MAX_BATCH_DURATION_MS }),
      },
    });
  } catch (error) {
    // The operator validates its configuration when it is created (e.g. a minimum batch size above the maximum).
    throw new UsageError(`invalid options: ${message(error)}`);
  }
  const streams = redis?.open(log);
  const toStdout = streams === undefined && (options.output === undefined || options.output === '-');
  const output: RecordSink =
    streams?.output ?? new Sink(toStdout ? io.stdout : await openOutput(options.output!, '--output'), !toStdout);
  const deadLetter: RecordSink | undefined =
    streams?.deadLetter ??
    (options.deadLetter === undefined
      ? undefined
      : new Sink(await openOutput(options.deadLetter, '--dead-letter'), true));
  // No progress over output that goes to the same terminal: redrawing would garble it.
  const terminalOutput = toStdout && (io.stdout as { isTTY?: boolean }).isTTY === true;
  const progress: ProgressMode =
    !options.progress || options.quiet || (terminalOutput && io.stderr.isTTY === true)
      ? 'off'
      : io.stderr.isTTY === true
        ? 'bar'
        : 'lines';
  const total = progress !== 'off' && fromFile && input.isFile ? await countLines(options.input!) : undefined;
  const source: RecordSource = streams?.source ?? new LineSource(input.stream, options.maxLineLength);
  return {
    progress,
    source,
    output,
    deadLetter,
    /** Names of the output and dead letters for the summary (Redis: without credentials). */
    outputLabel: streams?.outputLabel ?? (toStdout ? 'standard output' : options.output!),
    deadLetterLabel: streams?.deadLetterLabel ?? options.deadLetter,
    operator,
    parser,
    total,
    registry,
    /** The handler under the operator: its preloaded models, their load times. */
    models: handler,
  };
}
