import { basename, extname } from 'node:path';
import { createPredictor, MetricsRegistry } from '../index.js';
import { createInferenceServer } from '../serving/createInferenceServer.js';
import { servedModelOf } from '../serving/servedModelOf.js';
import type { CliIO } from './CliIO.js';
import { defaultMaxBatchSize } from './deviceOption.js';
import { createHandler } from './loadModelSignature.js';
import { message } from './preparePredict.js';
import type { ServeOptions } from './ServeOptions.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, InterruptedError, UsageError } from './UsageError.js';
import { loadJobModel } from './loadJobModel.js';
import { INTERRUPTED, interruption } from './interruption.js';
import { watchedModels } from './watchedModels.js';

/** The name a model file is served under: the file name without its extension (`model.json` → its directory's). */
export function defaultModelName(model: string): string {
  const file = basename(model);
  if (file.toLowerCase() === 'model.json') return basename(model.slice(0, -file.length - 1)) || 'model';
  return basename(file, extname(file)) || 'model';
}

/**
 * Runs `rxjs-inference serve`: loads the model, reads its signature, and serves it with the Open Inference Protocol
 * over HTTP until SIGINT/SIGTERM, then drains (answers what is in flight) and returns 0. Returns 2 when the model
 * cannot load or the address cannot be bound.
 */
export async function serve(options: ServeOptions, io: CliIO, version: string): Promise<number> {
  const log = (text: string): void => void io.stderr.write(`rxjs-inference: ${text}\n`);
  const name = options.name ?? defaultModelName(options.model);
  // The model is loaded once, before the server starts and with no time bound (--timeout-ms bounds batches).
  const loading = (async () => {
    const created = await createHandler({ ...options, log, verbose: options.verbose });
    const modelId = options.watch !== undefined ? options.model : created.handler.defaultModelId() || undefined;
    return loadJobModel(
      created,
      modelId,
      (model) => servedModelOf(model as Parameters<typeof servedModelOf>[0], { name }),
      io.signal,
    );
  })();
  const loaded = await Promise.race([loading.catch((error: unknown) => error as Error), interruption(io.signal)]);
  if (loaded === INTERRUPTED || loaded instanceof InterruptedError) {
    // A load still running releases its model when it ends.
    void loading.then((late) => late.handler.releaseUnclaimed()).catch(() => undefined);
    log('interrupted while the model loaded: not serving.');
    return EXIT_INTERRUPTED;
  }
  if (loaded instanceof Error) {
    log(loaded instanceof UsageError ? loaded.message : `cannot load model \`${options.model}\`: ${message(loaded)}`);
    return EXIT_USAGE;
  }
  const { handler, info: served } = loaded;
  const registry = new MetricsRegistry();
  const maxBatchSize = options.maxBatchSize ?? defaultMaxBatchSize(options.device);
  let predictor;
  try {
    predictor = createPredictor(handler, {
      metrics: registry,
      maxQueuedRequests: options.maxQueuedRequests,
      concurrent: options.concurrent, // unless given, the handler's: 1 inline, 2 per worker with --workers
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(options.watch !== undefined && {
        // A watched model is loaded before the engine is told of it: its load is not bounded either.
        modelMetadata: handler.preloadEach(
          watchedModels(options.model, options.watch, options.watchIntervalMs, log),
          (error, update) =>
            log(`model refresh failed, still serving the previous model: ${update.modelId}: ${message(error)}`),
        ),
      }),
      onModelLoad: (modelId) => {
        if (options.watch !== undefined && modelId !== options.model && !options.quiet) log(`now serving ${modelId}`);
      },
      onModelLoadError: (error, update) =>
        log(
          `model refresh failed, still serving the previous model: ${'modelId' in update ? update.modelId : ''}: ${error.message}`,
        ),
      // Whenever the model is free, take everything that waits (up to --max-batch-size), as a micro-batching server
      // does: a single request still goes at once, but under load no batch is cut below what is queued.
      batch: {
        minBatchSize: options.minBatchSize ?? maxBatchSize,
        maxBatchSize,
        ...(options.maxBatchDurationMs !== undefined && { maxBatchDurationMs: options.maxBatchDurationMs }),
      },
    });
  } catch (error) {
    log(`invalid options: ${message(error)}`);
    await handler.releaseUnclaimed();
    return EXIT_USAGE;
  }
  try {
    await predictor.ready;
  } catch (error) {
    log(`cannot load model \`${options.model}\`: ${message(error)}`);
    return EXIT_USAGE;
  }
  const server = createInferenceServer({
    predictor,
    model: served,
    metrics: registry,
    serverVersion: version,
    maxBodyBytes: options.maxBodyBytes,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  let address;
  try {
    address = await server.listen(options.port, options.host);
  } catch (error) {
    log(`cannot listen on ${options.host}:${options.port}: ${message(error)}`);
    await predictor.close();
    return EXIT_USAGE;
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  if (!options.quiet) {
    log(
      `serving model \`${name}\` (${served.platform}) at http://${host}:${address.port}/v2/models/${name} — ` +
        `POST .../infer; health at /v2/health/ready, metrics at /metrics; Ctrl-C or SIGTERM to stop`,
    );
  }
  // Tests and scripts read the bound port (with --port 0) from this line on standard output.
  io.stdout.write(`${JSON.stringify({ listening: `http://${host}:${address.port}`, model: name })}\n`);
  await new Promise<void>((resolve) => {
    if (io.signal === undefined || io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  if (!options.quiet) log('stopping: no new connections; answering the requests in flight');
  await server.close();
  await handler.releaseUnclaimed();
  if (!options.quiet) log('stopped');
  return EXIT_OK;
}
