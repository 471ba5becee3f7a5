import type { Counter } from './Counter.js';
import type { Distribution } from './Distribution.js';
import { sanitizePrometheusName } from './exportToPrometheus.js';
import { prometheusBuckets } from './prometheusBuckets.js';
import type { Gauge } from './Gauge.js';
import type { MetricsRegistry } from './MetricsRegistry.js';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(metric: Counter | Gauge | Distribution, extra = ''): string {
  const model = metric.prefix.replace(/[_-]$/, '');
  return `{namespace="${escapeLabel(metric.namespace)}",model="${escapeLabel(model)}"${extra}}`;
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * Renders a {@link MetricsRegistry} in the Prometheus text exposition format (version 0.0.4), without prom-client:
 * what a `/metrics` endpoint answers. Names and labels as {@link exportToPrometheus} gives them: `<prefix><base
 * name>` with labels `namespace` and `model`; counters get `_total`; distributions are histograms (`_bucket` per
 * fixed `le` bound, `_sum`, `_count`); gauges stay gauges.
 *
 * @example
 * ```text
 * # TYPE rxjs_inference_num_inferences_total counter
 * rxjs_inference_num_inferences_total{namespace="RunInference",model=""} 42
 * ```
 */
export function formatPrometheusText(registry: MetricsRegistry, prefix = 'rxjs_inference_'): string {
  const families = new Map<string, { type: string; lines: string[] }>();
  const family = (name: string, type: string): string[] => {
    let entry = families.get(name);
    if (entry === undefined) {
      entry = { type, lines: [] };
      families.set(name, entry);
    }
    return entry.lines;
  };
  for (const c of registry.listCounters()) {
    const name = `${prefix}${sanitizePrometheusName(c.name)}_total`;
    family(name, 'counter').push(`${name}${labels(c)} ${number(c.value)}`);
  }
  for (const g of registry.listGauges()) {
    const name = `${prefix}${sanitizePrometheusName(g.name)}`;
    family(name, 'gauge').push(`${name}${labels(g)} ${number(g.value)}`);
  }
  for (const d of registry.listDistributions()) {
    const name = `${prefix}${sanitizePrometheusName(d.name)}`;
    const lines = family(name, 'histogram');
    for (const le of prometheusBuckets(d.name)) {
      lines.push(`${name}_bucket${labels(d, `,le="${le}"`)} ${number(d.countAtMost(le))}`);
    }
    lines.push(`${name}_bucket${labels(d, ',le="+Inf"')} ${number(d.count)}`);
    lines.push(`${name}_sum${labels(d)} ${number(d.sum)}`, `${name}_count${labels(d)} ${number(d.count)}`);
  }
  let text = '';
  for (const [name, { type, lines }] of families) text += `# TYPE ${name} ${type}\n${lines.join('\n')}\n`;
  return text;
}
