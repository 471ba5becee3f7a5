import { describeValue } from '../core/errors.js';
import { Counter } from './Counter.js';
import { Distribution, type DistributionSnapshot } from './Distribution.js';
import { Gauge } from './Gauge.js';

/**
 * A metric's name in parts, as Beam names it: a namespace (`'RunInference'`, or the handler's
 * `getMetricsNamespace()`), a base name (`'num_inferences'`) and a prefix that tells apart metrics of the same name
 * (`'<modelName>_'` after a model refresh, `'<group>-'` per key group; `''` for none).
 *
 * The full name is `` `${namespace}/${prefix}${name}` `` (just `prefix + name` when the namespace is `''`).
 */
export interface MetricName {
  /** Beam's metric namespace. */
  readonly namespace: string;
  /** The base name. */
  readonly name: string;
  /** Prepended to the base name in the full name. @default '' */
  readonly prefix?: string;
}

/** The three kinds of metric a {@link MetricsRegistry} holds. */
export type MetricKind = 'counter' | 'distribution' | 'gauge';

/** Any metric a {@link MetricsRegistry} holds. */
export type Metric = Counter | Distribution | Gauge;

/** Every metric of a registry at one moment, keyed by full name; plain JSON. */
export interface MetricsSnapshot {
  /** Counter totals. */
  readonly counters: Record<string, number>;
  /** Distributions: count, sum, min, max, mean, p50, p90, p99. */
  readonly distributions: Record<string, DistributionSnapshot>;
  /** Gauge values. */
  readonly gauges: Record<string, number>;
}

/** Called with each metric when it is first created in a registry. */
export type MetricListener = (metric: Metric, kind: MetricKind) => void;

/** The full name of a metric: `` `${namespace}/${prefix}${name}` ``, or `prefix + name` without a namespace. */
export function fullMetricName({ namespace, name, prefix = '' }: MetricName): string {
  return namespace === '' ? prefix + name : `${namespace}/${prefix}${name}`;
}

function parseName(name: string | MetricName): MetricName {
  if (typeof name === 'string') {
    if (name === '') throw new TypeError(`Expected \`name\` to be a non-empty string, got ${describeValue(name)}.`);
    const slash = name.indexOf('/');
    return slash < 0 ? { namespace: '', name } : { namespace: name.slice(0, slash), name: name.slice(slash + 1) };
  }
  const ok =
    name !== null &&
    typeof name === 'object' &&
    typeof name.namespace === 'string' &&
    typeof name.name === 'string' &&
    name.name !== '' &&
    (name.prefix === undefined || typeof name.prefix === 'string');
  if (!ok) {
    throw new TypeError(
      `Expected \`name\` to be a non-empty string or a { namespace, name, prefix? } object, got ${describeValue(name)}.`,
    );
  }
  return name;
}

/**
 * In-process metrics, Beam style: counters, distributions and gauges, each created on first use and found again by
 * its full name. Reading is free of side effects ({@link snapshot}); exporters ({@link exportToPrometheus}) read the
 * live objects. Creating a metric is a map lookup: callers on a hot path keep the returned object (as
 * {@link RunInferenceMetrics} does) instead of asking for it by name on every update.
 *
 * A name is a full-name string (`'MyStage/records'`: namespace before the first `/`) or a {@link MetricName}; the
 * same full name always gives the same object. The kinds are separate: a counter and a distribution may share a name.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from 'rxjs-inference';
 * const metrics = new MetricsRegistry();
 * metrics.counter('MyStage/records').inc(3);
 * metrics.distribution({ namespace: 'MyStage', name: 'latency_milli_secs', prefix: 'v2_' }).update(12);
 * metrics.snapshot();
 * // { counters: { 'MyStage/records': 3 },
 * //   distributions: { 'MyStage/v2_latency_milli_secs': { count: 1, sum: 12, min: 12, max: 12, mean: 12, p50: 12, ... } },
 * //   gauges: {} }
 * ```
 */
export class MetricsRegistry {
  private readonly counters = new Map<string, Counter>();
  private readonly distributions = new Map<string, Distribution>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly listeners = new Set<MetricListener>();

  /** The counter with this name, created (at 0) on first use. */
  counter(name: string | MetricName): Counter {
    return this.getOrCreate(this.counters, name, 'counter', Counter);
  }

  /** The distribution with this name, created (empty) on first use. */
  distribution(name: string | MetricName): Distribution {
    return this.getOrCreate(this.distributions, name, 'distribution', Distribution);
  }

  /** The gauge with this name, created (at 0) on first use. */
  gauge(name: string | MetricName): Gauge {
    return this.getOrCreate(this.gauges, name, 'gauge', Gauge);
  }

  /** Every counter, in creation order. */
  listCounters(): Counter[] {
    return [...this.counters.values()];
  }

  /** Every distribution, in creation order. */
  listDistributions(): Distribution[] {
    return [...this.distributions.values()];
  }

  /** Every gauge, in creation order. */
  listGauges(): Gauge[] {
    return [...this.gauges.values()];
  }

  /**
   * Calls `listener` for each metric created from now on (exporters use it to publish metrics that appear after
   * they were set up, such as a refreshed model's). Returns a function that removes the listener.
   */
  onMetricCreated(listener: MetricListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Every metric's current values as a plain, JSON-serialisable object keyed by full name. */
  snapshot(): MetricsSnapshot {
    const counters: Record<string, number> = {};
    const distributions: Record<string, DistributionSnapshot> = {};
    const gauges: Record<string, number> = {};
    for (const [key, c] of this.counters) counters[key] = c.value;
    for (const [key, d] of this.distributions) distributions[key] = d.snapshot();
    for (const [key, g] of this.gauges) gauges[key] = g.value;
    return { counters, distributions, gauges };
  }

  /**
   * Sets every metric back to zero / empty. The metric objects stay registered and valid, so code holding them (a
   * running `runInference`) keeps recording into this registry.
   */
  reset(): void {
    for (const c of this.counters.values()) c.reset();
    for (const d of this.distributions.values()) d.reset();
    for (const g of this.gauges.values()) g.reset();
  }

  private getOrCreate<T extends Metric>(
    map: Map<string, T>,
    name: string | MetricName,
    kind: MetricKind,
    Kind: new (fullName: string, namespace: string, name: string, prefix: string) => T,
  ): T {
    if (typeof name === 'string') {
      const found = map.get(name);
      if (found !== undefined) return found;
    }
    const parts = parseName(name);
    const key = fullMetricName(parts);
    let metric = map.get(key);
    if (metric === undefined) {
      metric = new Kind(key, parts.namespace, parts.name, parts.prefix ?? '');
      map.set(key, metric);
      for (const listener of this.listeners) listener(metric, kind);
    }
    return metric;
  }
}

/**
 * The process-wide registry: where `runInference` records unless given another one, and what the command-line
 * program summarises. Tests that assert values create their own {@link MetricsRegistry} (or call `reset()`).
 */
export const defaultMetricsRegistry = new MetricsRegistry();
