import { describeValue } from '../core/errors.js';
import { checkObject } from '../core/validate.js';
import type { Counter } from './Counter.js';
import type { Distribution } from './Distribution.js';
import type { Gauge } from './Gauge.js';
import type { Metric, MetricKind, MetricsRegistry } from './MetricsRegistry.js';
import { prometheusBuckets } from './prometheusBuckets.js';
import { RUN_INFERENCE_METRIC_NAMES } from './RunInferenceMetrics.js';

/** The part of a prom-client `Registry` this exporter uses (prom-client 14 and 15). */
export interface PromRegistryLike {
  registerMetric(metric: any): void;
  getSingleMetric(name: string): unknown;
  removeSingleMetric(name: string): void;
}

/** Where {@link exportToPrometheus} publishes, and how it names metrics. */
export interface ExportToPrometheusConfig {
  /**
   * The prom-client module, as the application imports it (`import * as prom from 'prom-client'`); its default
   * registry `prom.register` is used unless `promRegistry` is given. Passing it (rather than this library importing
   * prom-client) guarantees one prom-client instance, so your `/metrics` endpoint sees these metrics.
   * @default undefined (then `promRegistry` is required)
   */
  readonly prom?: { readonly register: PromRegistryLike };
  /** The prom-client `Registry` to publish into. @default prom.register */
  readonly promRegistry?: PromRegistryLike;
  /** Prepended to every Prometheus metric name; must be a valid Prometheus name start. @default 'rxjs_inference_' */
  readonly prefix?: string;
}

/** What {@link exportToPrometheus} returns. */
export interface PrometheusExport {
  /** The Prometheus names of the families published so far. */
  readonly names: () => string[];
  /** Removes every family this export published from the prom-client registry and stops following new metrics. */
  readonly unregister: () => void;
}

// Distributions are histograms (fixed buckets per metric, prometheusBuckets), not summaries: quantiles computed in
// each process cannot be added up across replicas, histogram buckets can (histogram_quantile over sum by (le)).
const PROM_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

const HELP: Record<string, string> = {
  [RUN_INFERENCE_METRIC_NAMES.numInferences]: 'Elements inferred (Beam num_inferences).',
  [RUN_INFERENCE_METRIC_NAMES.batchSize]: 'Elements per model call (Beam inference_request_batch_size).',
  [RUN_INFERENCE_METRIC_NAMES.batchByteSize]: 'Bytes per model call (Beam inference_request_batch_byte_size).',
  [RUN_INFERENCE_METRIC_NAMES.batchLatency]:
    'Model call latency in microseconds (Beam inference_batch_latency_micro_secs).',
  [RUN_INFERENCE_METRIC_NAMES.modelByteSize]: 'Size of a loaded model in bytes (Beam model_byte_size).',
  [RUN_INFERENCE_METRIC_NAMES.loadLatency]: 'Model load latency in milliseconds (Beam load_model_latency_milli_secs).',
  [RUN_INFERENCE_METRIC_NAMES.failedBatches]: 'Batches whose model call failed (Beam failed_batches_counter).',
  [RUN_INFERENCE_METRIC_NAMES.loadFailures]: 'Models that failed to load.',
  [RUN_INFERENCE_METRIC_NAMES.queueWait]: 'Time elements waited in the queue before their batch ran, in milliseconds.',
};
const KNOWN_KINDS: Record<string, MetricKind> = {
  [RUN_INFERENCE_METRIC_NAMES.numInferences]: 'counter',
  [RUN_INFERENCE_METRIC_NAMES.failedBatches]: 'counter',
  [RUN_INFERENCE_METRIC_NAMES.loadFailures]: 'counter',
};

/** Turns a base name into a Prometheus name part: invalid characters become `_`. */
export function sanitizePrometheusName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
}

/** The `model` label: the metric prefix without its trailing separator (`'resnet_'` → `'resnet'`). */
function modelLabel(prefix: string): string {
  return prefix.replace(/[_-]$/, '');
}

interface PromValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** One Prometheus family, duck-typed as a prom-client metric: `get()` reads the in-process values at scrape time. */
class Family {
  readonly aggregator = 'sum';
  readonly members: Metric[] = [];
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  private readonly buckets: readonly number[];

  constructor(
    public name: string,
    readonly kind: MetricKind,
    baseName: string,
  ) {
    this.type = kind === 'distribution' ? 'histogram' : kind;
    this.buckets = prometheusBuckets(baseName);
    this.help = HELP[baseName] ?? `${baseName} (${kind} from the rxjs-inference MetricsRegistry).`;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: PromValue[] } {
    const values: PromValue[] = [];
    for (const m of this.members) {
      const labels = { namespace: m.namespace, model: modelLabel(m.prefix) };
      if (this.kind !== 'distribution') {
        values.push({ labels, value: (m as Counter | Gauge).value });
        continue;
      }
      const d = m as Distribution;
      for (const le of this.buckets) {
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: d.countAtMost(le) });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: d.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: d.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: d.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** `promRegistry.resetMetrics()` does not touch the in-process values: reset the MetricsRegistry for that. */
  reset(): void {}
}

function resolveRegistry(config: ExportToPrometheusConfig): PromRegistryLike {
  const isRegistry = (r: unknown): r is PromRegistryLike =>
    r !== null && typeof r === 'object' && typeof (r as PromRegistryLike).registerMetric === 'function';
  if (config.promRegistry !== undefined) {
    if (!isRegistry(config.promRegistry)) {
      throw new TypeError(
        `Expected \`promRegistry\` to be a prom-client Registry, got ${describeValue(config.promRegistry)}.`,
      );
    }
    return config.promRegistry;
  }
  const prom = config.prom as { register?: unknown } | undefined;
  if (prom === undefined) {
    throw new TypeError('Expected `prom` (the prom-client module) or `promRegistry` (a prom-client Registry).');
  }
  if (prom === null || typeof prom !== 'object' || !isRegistry(prom.register)) {
    throw new TypeError(`Expected \`prom\` to be the prom-client module, got ${describeValue(prom)}.`);
  }
  return prom.register;
}

/**
 * Publishes a {@link MetricsRegistry} to a prom-client registry, so the `/metrics` endpoint an application already
 * serves shows RunInference's metrics. Nothing is copied on a timer: each family's `get()` reads the in-process
 * values when Prometheus scrapes.
 *
 * Naming: `<prefix><base name>` with labels `namespace` (the handler's metrics namespace) and `model` (the metric
 * prefix — model name after a refresh, key group — without its trailing `_`/`-`; `""` for none). Counters get
 * Prometheus's `_total` suffix; distributions become histograms (`_bucket` with fixed `le` bounds per metric, so that
 * replicas aggregate, plus `_sum` and `_count`; the in-process sketch places a value within 1 % of a bound on either
 * side of it); gauges stay gauges. For example
 * `rxjs_inference_num_inferences_total{namespace="RunInference",model="resnet_v2"} 42`.
 *
 * The families of RunInference's metrics are published at once (so a name clash shows up here, as an Error);
 * metrics created later in the registry are published when they appear. A metric whose Prometheus name is already
 * taken by another kind, or by someone else's metric, is left out.
 *
 * @example
 * ```ts
 * import * as prom from 'prom-client';
 * import { defaultMetricsRegistry, exportToPrometheus } from 'rxjs-inference';
 * exportToPrometheus(defaultMetricsRegistry, { prom });
 * // later, in the HTTP handler: res.end(await prom.register.metrics());
 * ```
 *
 * @param registry The in-process metrics to publish.
 * @param config Where to publish (`prom` or `promRegistry`) and the name prefix.
 * @returns A handle to list and unregister the published families.
 */
export function exportToPrometheus(registry: MetricsRegistry, config: ExportToPrometheusConfig): PrometheusExport {
  checkObject('config', config);
  if (config === undefined) throw new TypeError('Expected `config` to be an object, got `undefined` (undefined).');
  const promRegistry = resolveRegistry(config);
  const { prefix = 'rxjs_inference_' } = config;
  if (typeof prefix !== 'string' || (prefix !== '' && !PROM_NAME.test(prefix))) {
    const kind = typeof prefix === 'string' ? RangeError : TypeError;
    throw new kind(`Expected \`prefix\` to be a valid Prometheus metric name prefix, got ${describeValue(prefix)}.`);
  }

  const families = new Map<string, Family>();
  const promName = (base: string, kind: MetricKind): string => {
    const name = sanitizePrometheusName(prefix + base);
    return kind === 'counter' && !name.endsWith('_total') ? `${name}_total` : name;
  };
  const family = (base: string, kind: MetricKind, strict: boolean): Family | undefined => {
    const name = promName(base, kind);
    const existing = families.get(name);
    if (existing !== undefined) return existing.kind === kind ? existing : undefined;
    const created = new Family(name, kind, base);
    try {
      promRegistry.registerMetric(created);
    } catch (error) {
      if (strict) throw error;
      return undefined;
    }
    families.set(name, created);
    return created;
  };
  const add = (metric: Metric, kind: MetricKind): void => {
    family(metric.name, kind, false)?.members.push(metric);
  };

  let stop = (): void => {};
  const published: PrometheusExport = {
    names: () => [...families.keys()],
    unregister: () => {
      stop();
      for (const [name, f] of families) {
        // Keyed by the registered name: an OpenMetrics registry renames counters (drops `_total`) in place.
        if (promRegistry.getSingleMetric(name) === f) promRegistry.removeSingleMetric(name);
        families.delete(name);
      }
    },
  };
  try {
    for (const base of Object.values(RUN_INFERENCE_METRIC_NAMES))
      family(base, KNOWN_KINDS[base] ?? 'distribution', true);
  } catch (error) {
    published.unregister(); // leave nothing half-published
    throw error;
  }
  for (const c of registry.listCounters()) add(c, 'counter');
  for (const d of registry.listDistributions()) add(d, 'distribution');
  for (const g of registry.listGauges()) add(g, 'gauge');
  stop = registry.onMetricCreated(add);
  return published;
}
