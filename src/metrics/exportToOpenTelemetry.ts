import { describeValue } from '../core/errors.js';
import { checkKnownKeys, checkObject } from '../core/validate.js';
import type { Counter } from './Counter.js';
import type { Distribution } from './Distribution.js';
import type { Gauge } from './Gauge.js';
import type { Metric, MetricKind, MetricsRegistry } from './MetricsRegistry.js';
import { prometheusBuckets } from './prometheusBuckets.js';

/** Attributes of one series: the handler's metrics namespace and the metric prefix (model name, key group). */
export type OtelAttributes = Readonly<Record<string, string>>;

/** The options an instrument is created with (a subset of `@opentelemetry/api`'s `MetricOptions`). */
export interface OtelInstrumentOptions {
  readonly description?: string;
  readonly unit?: string;
  readonly advice?: { readonly explicitBucketBoundaries?: number[] };
}

/** What an observable instrument's callback reports to (`@opentelemetry/api`'s `ObservableResult`). */
export interface OtelObservableResultLike {
  observe(value: number, attributes?: OtelAttributes): void;
}

/** An asynchronous instrument (`ObservableCounter`, `ObservableGauge`). */
export interface OtelObservableLike {
  addCallback(callback: (result: OtelObservableResultLike) => void): void;
  removeCallback(callback: (result: OtelObservableResultLike) => void): void;
}

/**
 * The part of an OpenTelemetry `Meter` (`@opentelemetry/api` 1.x, e.g. `metrics.getMeter('my-service')`) this exporter
 * uses. Typed structurally, so this package's declarations do not need `@opentelemetry/api` (an optional peer).
 */
export interface OtelMeterLike {
  createHistogram(
    name: string,
    options?: OtelInstrumentOptions,
  ): { record(value: number, attributes?: OtelAttributes): void };
  createObservableCounter(name: string, options?: OtelInstrumentOptions): OtelObservableLike;
  createObservableGauge(name: string, options?: OtelInstrumentOptions): OtelObservableLike;
}

/** Options of {@link exportToOpenTelemetry}. */
export interface ExportToOpenTelemetryConfig {
  /** The OpenTelemetry meter to create the instruments on. Required. */
  readonly meter: OtelMeterLike;
  /** Prepended to every instrument name. @default 'rxjs_inference.' */
  readonly prefix?: string;
}

/** What {@link exportToOpenTelemetry} returns. */
export interface OpenTelemetryExport {
  /** The names of the instruments created so far. */
  readonly names: () => string[];
  /** Stops recording: detaches every callback and histogram feed (the instruments stay with the meter, silent). */
  readonly unregister: () => void;
}

const UNITS: readonly [RegExp, string][] = [
  [/micro_secs$/, 'us'],
  [/milli_secs$/, 'ms'],
  [/byte_size$/, 'By'],
  [/per_second$/, '1/s'],
];

function unitOf(baseName: string): string | undefined {
  return UNITS.find(([pattern]) => pattern.test(baseName))?.[1];
}

function attributesOf(metric: Metric): OtelAttributes {
  return { namespace: metric.namespace, model: metric.prefix.replace(/[_-]$/, '') };
}

/**
 * Publishes a {@link MetricsRegistry} through OpenTelemetry: distributions (latencies, batch sizes, byte sizes) become
 * histograms recorded value by value, with the same bucket boundaries as the Prometheus export (as `advice`);
 * counters become observable counters and gauges observable gauges, read when the SDK collects. One instrument per
 * base name (`<prefix><base name>`, e.g. `rxjs_inference.inference_batch_latency_micro_secs`, unit `us`), one series
 * per metric with the attributes `namespace` (the handler's metrics namespace) and `model` (the metric prefix without
 * its trailing `_`/`-`: the model name after a refresh, a key group). Metrics created later (a refreshed model's) are
 * published when they appear.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { defaultMetricsRegistry, exportToOpenTelemetry } from 'rxjs-inference';
 * exportToOpenTelemetry(defaultMetricsRegistry, { meter: metrics.getMeter('scoring-service') });
 * ```
 *
 * @param registry The in-process metrics to publish.
 * @param config The meter, and the name prefix.
 * @returns A handle to list the instruments and stop recording.
 */
export function exportToOpenTelemetry(
  registry: MetricsRegistry,
  config: ExportToOpenTelemetryConfig,
): OpenTelemetryExport {
  checkObject('config', config);
  checkKnownKeys('the exportToOpenTelemetry config', config, CONFIG_KEYS);
  const { meter, prefix = 'rxjs_inference.' } = config ?? ({} as ExportToOpenTelemetryConfig);
  if (
    meter === null ||
    typeof meter !== 'object' ||
    typeof meter.createHistogram !== 'function' ||
    typeof meter.createObservableCounter !== 'function'
  ) {
    throw new TypeError(`Expected \`meter\` to be an OpenTelemetry Meter, got ${describeValue(meter)}.`);
  }
  if (typeof prefix !== 'string')
    throw new TypeError(`Expected \`prefix\` to be a string, got ${describeValue(prefix)}.`);

  const stops: (() => void)[] = [];
  const observed = new Map<string, Metric[]>();
  const histograms = new Map<string, { record(value: number, attributes?: OtelAttributes): void }>();

  const observable = (metric: Counter | Gauge, kind: 'counter' | 'gauge'): void => {
    const name = prefix + metric.name;
    let members = observed.get(name);
    if (members === undefined) {
      const instrumentMembers: Metric[] = [];
      members = instrumentMembers;
      observed.set(name, members);
      const options = { description: `${metric.name} (${kind} from the rxjs-inference MetricsRegistry)` };
      const instrument =
        kind === 'counter' ? meter.createObservableCounter(name, options) : meter.createObservableGauge(name, options);
      const callback = (result: OtelObservableResultLike): void => {
        for (const m of instrumentMembers) result.observe((m as Counter | Gauge).value, attributesOf(m));
      };
      instrument.addCallback(callback);
      stops.push(() => instrument.removeCallback(callback));
    }
    members.push(metric);
  };

  const histogram = (metric: Distribution): void => {
    const name = prefix + metric.name;
    let instrument = histograms.get(name);
    if (instrument === undefined) {
      instrument = meter.createHistogram(name, {
        description: `${metric.name} (distribution from the rxjs-inference MetricsRegistry)`,
        unit: unitOf(metric.name),
        advice: { explicitBucketBoundaries: [...prometheusBuckets(metric.name)] },
      });
      histograms.set(name, instrument);
    }
    const target = instrument;
    const attributes = attributesOf(metric);
    stops.push(metric.observe((value) => target.record(value, attributes)));
  };

  const add = (metric: Metric, kind: MetricKind): void => {
    if (kind === 'distribution') histogram(metric as Distribution);
    else observable(metric as Counter | Gauge, kind);
  };
  for (const c of registry.listCounters()) add(c, 'counter');
  for (const d of registry.listDistributions()) add(d, 'distribution');
  for (const g of registry.listGauges()) add(g, 'gauge');
  stops.push(registry.onMetricCreated(add));
  return {
    names: () => [...observed.keys(), ...histograms.keys()],
    unregister: () => {
      for (const stop of stops.splice(0)) stop();
    },
  };
}

const CONFIG_KEYS = { meter: true, prefix: true } as const satisfies Record<keyof ExportToOpenTelemetryConfig, true>;
