import type { MetricsRegistry } from '../index.js';

/** What the command reports at the end (text on standard error, JSON with `--summary-json`). */
export interface RunSummary {
  /** Non-blank input lines read. */
  readonly recordsIn: number;
  /** Output lines written. */
  readonly recordsOut: number;
  /** Records that failed (dead letters). */
  readonly recordsFailed: number;
  /**
   * Records read but neither written nor failed: those in flight when the job was interrupted (or its output's reader
   * went away). 0 when the input was done. `recordsIn` = `recordsOut` + `recordsFailed` + `recordsNotWritten`.
   */
  readonly recordsNotWritten: number;
  /** Blank lines skipped. */
  readonly blankLines: number;
  /** Batches run by the model (from `inference_request_batch_size`). */
  readonly batches: number;
  /** Mean records per batch. */
  readonly meanBatchSize: number;
  /** Median batch latency in milliseconds (from `inference_batch_latency_micro_secs`). */
  readonly batchLatencyP50Ms: number;
  /** 99th percentile batch latency in milliseconds. */
  readonly batchLatencyP99Ms: number;
  /** Batches that failed (`failed_batches_counter`; bisection retries them). */
  readonly failedBatches: number;
  /** Model load time(s) in milliseconds, in load order (every load the command made, refreshes included). */
  readonly modelLoadMs: readonly number[];
  /** Wall time from the first line read to the last record written, in milliseconds. */
  readonly elapsedMs: number;
  /** Records (in) per second of wall time. */
  readonly recordsPerSecond: number;
  /** Peak resident set size of the process, in bytes. */
  readonly peakRssBytes: number;
  /**
   * Where the model ran (`'cpu'`, `'webgpu'`, `'cuda'`; `--device gpu` resolved), from the run's
   * `model_device_<device>` gauges; `'unknown'` when the model does not say (several: joined with `,`).
   */
  readonly device: string;
  /** Models that produced results (ids), in order of first result. */
  readonly models: readonly string[];
  /** Every metric of the run's registry (Beam's names). */
  readonly metrics: ReturnType<MetricsRegistry['snapshot']>;
}

/** Counts the command keeps itself. */
export interface RunCounts {
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly recordsFailed: number;
  readonly recordsNotWritten: number;
  readonly blankLines: number;
  readonly elapsedMs: number;
  readonly models: readonly string[];
  /** The command loads its models itself (with no time bound) before the engine asks for them: their load times. */
  readonly modelLoadMs: readonly number[];
}

/**
 * Builds the summary from the run's own `MetricsRegistry` (one per run, given to `runInference`), adding up the
 * metrics of every model (a refreshed model's metrics carry its name as a prefix).
 */
export function summarize(registry: MetricsRegistry, counts: RunCounts): RunSummary {
  const sizes = registry.listDistributions().filter((d) => d.name === 'inference_request_batch_size');
  const latencies = registry
    .listDistributions()
    .filter((d) => d.name === 'inference_batch_latency_micro_secs' && d.count > 0);
  const failedBatches = registry
    .listCounters()
    .filter((c) => c.name === 'failed_batches_counter')
    .reduce((n, c) => n + c.value, 0);
  const batches = sizes.reduce((n, d) => n + d.count, 0);
  const records = sizes.reduce((n, d) => n + d.sum, 0);
  // Quantiles of several models cannot be merged exactly: report those of the model that ran the most batches.
  const main = latencies.reduce<(typeof latencies)[number] | undefined>(
    (best, d) => (best === undefined || d.count > best.count ? d : best),
    undefined,
  );
  const seconds = counts.elapsedMs / 1000;
  // `model_device_<device>` gauges (RunInferenceMetrics.recordDevice), one per model and device.
  const devices = [
    ...new Set(
      registry
        .listGauges()
        .filter((g) => g.name.startsWith('model_device_') && g.value === 1)
        .map((g) => g.name.slice('model_device_'.length)),
    ),
  ];
  return {
    recordsIn: counts.recordsIn,
    recordsOut: counts.recordsOut,
    recordsFailed: counts.recordsFailed,
    recordsNotWritten: counts.recordsNotWritten,
    blankLines: counts.blankLines,
    batches,
    meanBatchSize: batches > 0 ? records / batches : 0,
    batchLatencyP50Ms: main === undefined ? 0 : main.quantile(0.5) / 1000,
    batchLatencyP99Ms: main === undefined ? 0 : main.quantile(0.99) / 1000,
    failedBatches,
    modelLoadMs: counts.modelLoadMs,
    elapsedMs: counts.elapsedMs,
    recordsPerSecond: seconds > 0 ? counts.recordsIn / seconds : 0,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    device: devices.length > 0 ? devices.join(',') : 'unknown',
    models: counts.models,
    metrics: registry.snapshot(),
  };
}

function fixed(n: number, digits: number): string {
  return n.toFixed(digits);
}

/** The summary as plain text lines (no control characters), for standard error. */
export function formatSummary(
  summary: RunSummary,
  { verbose, output, deadLetter }: { verbose: boolean; output: string; deadLetter: string | undefined },
): string {
  const lines = [
    `rxjs-inference: done in ${fixed(summary.elapsedMs / 1000, 2)} s`,
    `  records     in ${summary.recordsIn}, out ${summary.recordsOut}, failed ${summary.recordsFailed}` +
      (summary.recordsNotWritten > 0 ? `, not written ${summary.recordsNotWritten} (read, still in flight)` : '') +
      (summary.blankLines > 0 ? `, blank lines skipped ${summary.blankLines}` : ''),
    `  batches     ${summary.batches}, mean size ${fixed(summary.meanBatchSize, 1)}` +
      (summary.failedBatches > 0 ? `, failed batches ${summary.failedBatches}` : ''),
    `  latency     p50 ${fixed(summary.batchLatencyP50Ms, 2)} ms, p99 ${fixed(summary.batchLatencyP99Ms, 2)} ms per batch`,
    `  throughput  ${Math.round(summary.recordsPerSecond)} records/s`,
    `  device      ${summary.device}`,
    `  output      ${output}`,
  ];
  if (deadLetter !== undefined) lines.push(`  dead letter ${deadLetter}`);
  if (summary.models.length > 1) lines.push(`  models      ${summary.models.join(' -> ')}`);
  if (verbose) {
    lines.push(`  model load  ${summary.modelLoadMs.map((ms) => `${fixed(ms, 1)} ms`).join(', ') || '-'}`);
    lines.push(`  peak RSS    ${fixed(summary.peakRssBytes / 1048576, 1)} MB`);
  }
  return lines.join('\n') + '\n';
}
