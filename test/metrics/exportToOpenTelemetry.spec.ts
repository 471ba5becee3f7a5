import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { from, lastValueFrom, toArray } from 'rxjs';
import { exportToOpenTelemetry, MetricsRegistry, runInference } from 'rxjs-inference';
import { FakeModelHandler } from 'rxjs-inference/testing';

// The real OpenTelemetry metrics SDK, collected on demand (no exporter, no timer).
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

interface Point {
  readonly attributes: Record<string, unknown>;
  readonly value: unknown;
}

async function collect(reader: CollectingReader): Promise<Map<string, { unit: string; points: Point[] }>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const out = new Map<string, { unit: string; points: Point[] }>();
  for (const scope of (resourceMetrics as ResourceMetrics).scopeMetrics) {
    for (const m of scope.metrics) {
      out.set(m.descriptor.name, { unit: m.descriptor.unit, points: m.dataPoints as unknown as Point[] });
    }
  }
  return out;
}

function setup(): { registry: MetricsRegistry; reader: CollectingReader; meterProvider: MeterProvider } {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return { registry: new MetricsRegistry(), reader, meterProvider };
}

describe('exportToOpenTelemetry', () => {
  it('batch sizes and latencies are histograms (the Prometheus buckets as advice), counts are counters', async () => {
    const { registry, reader, meterProvider } = setup();
    const exported = exportToOpenTelemetry(registry, { meter: meterProvider.getMeter('test') });
    const handler = new FakeModelHandler({ run: (x: number) => x, batchConfig: { minBatchSize: 3, maxBatchSize: 3 } });
    await lastValueFrom(from([1, 2, 3, 4, 5, 6, 7]).pipe(runInference(handler, { metrics: registry }), toArray()));

    const metrics = await collect(reader);
    const sizes = metrics.get('rxjs_inference.inference_request_batch_size')!;
    expect(sizes.points).toHaveLength(1);
    expect(sizes.points[0].attributes).toEqual({ namespace: 'RunInference', model: '' });
    expect(sizes.points[0].value).toMatchObject({
      count: 3,
      sum: 7,
      min: 1,
      max: 3,
      buckets: { boundaries: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384] },
    });
    // 3, 3 and 1 elements: one value in (-inf, 1], two in (2, 4].
    expect((sizes.points[0].value as { buckets: { counts: number[] } }).buckets.counts.slice(0, 4)).toEqual([
      1, 0, 2, 0,
    ]);
    expect(metrics.get('rxjs_inference.inference_batch_latency_micro_secs')).toMatchObject({
      unit: 'us',
      points: [{ value: expect.objectContaining({ count: 3 }) }],
    });
    expect(metrics.get('rxjs_inference.num_inferences')).toMatchObject({
      points: [{ attributes: { namespace: 'RunInference', model: '' }, value: 7 }],
    });
    expect(exported.names()).toEqual(expect.arrayContaining(['rxjs_inference.num_inferences']));
  });

  it('publishes metrics created later, and stops on unregister', async () => {
    const { registry, reader, meterProvider } = setup();
    const exported = exportToOpenTelemetry(registry, { meter: meterProvider.getMeter('test'), prefix: 'app.' });
    registry.counter({ namespace: 'Mine', name: 'records', prefix: 'v2_' }).inc(5);
    const latency = registry.distribution({ namespace: 'Mine', name: 'step_milli_secs' });
    latency.update(12);
    let metrics = await collect(reader);
    expect(metrics.get('app.records')!.points).toEqual([
      expect.objectContaining({ attributes: { namespace: 'Mine', model: 'v2' }, value: 5 }),
    ]);
    expect(metrics.get('app.step_milli_secs')).toMatchObject({
      unit: 'ms',
      points: [{ value: { count: 1, sum: 12 } }],
    });

    exported.unregister();
    latency.update(30);
    metrics = await collect(reader);
    expect(metrics.get('app.step_milli_secs')).toMatchObject({ points: [{ value: { count: 1, sum: 12 } }] });
  });

  it('validates its config', () => {
    const registry = new MetricsRegistry();
    expect(() => exportToOpenTelemetry(registry, { meter: {} as never })).toThrow(
      /Expected `meter` to be an OpenTelemetry Meter/,
    );
    expect(() => exportToOpenTelemetry(registry, { metre: {} } as never)).toThrow(/did you mean `meter`/);
  });
});
