import * as prom from 'prom-client';
import { MetricsRegistry, RunInferenceMetrics, exportToPrometheus } from '../../src/index';
import { sanitizePrometheusName } from '../../src/metrics/exportToPrometheus';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

/** The sample lines (not comments) of a Prometheus text exposition. */
function samples(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

describe('exportToPrometheus', () => {
  it("publishes RunInference's metrics with namespace and model labels, read at scrape time", async () => {
    const registry = new MetricsRegistry();
    const promRegistry = new prom.Registry();
    exportToPrometheus(registry, { prom, promRegistry });
    const metrics = new RunInferenceMetrics(registry, 'RunInference');
    metrics.recordBatch(4, 64, 2);
    metrics.recordBatch(6, 96, 4);
    metrics.withPrefix('resnet_v2_').recordBatch(3, 48, 1);
    metrics.recordFailedBatch();

    const text = await promRegistry.metrics();
    expect(text).toContain('# TYPE rxjs_inference_num_inferences_total counter');
    expect(text).toContain('# HELP rxjs_inference_num_inferences_total Elements inferred (Beam num_inferences).');
    expect(samples(text)).toEqual(
      expect.arrayContaining([
        'rxjs_inference_num_inferences_total{namespace="RunInference",model=""} 10',
        'rxjs_inference_num_inferences_total{namespace="RunInference",model="resnet_v2"} 3',
        'rxjs_inference_failed_batches_counter_total{namespace="RunInference",model=""} 1',
        'rxjs_inference_inference_request_batch_size_bucket{namespace="RunInference",model="",le="2"} 0',
        'rxjs_inference_inference_request_batch_size_bucket{namespace="RunInference",model="",le="4"} 1',
        'rxjs_inference_inference_request_batch_size_bucket{namespace="RunInference",model="",le="8"} 2',
        'rxjs_inference_inference_request_batch_size_bucket{namespace="RunInference",model="",le="+Inf"} 2',
        'rxjs_inference_inference_request_batch_size_sum{namespace="RunInference",model=""} 10',
        'rxjs_inference_inference_request_batch_size_count{namespace="RunInference",model=""} 2',
        'rxjs_inference_inference_batch_latency_micro_secs_sum{namespace="RunInference",model="resnet_v2"} 1000',
      ]),
    );
    // Histograms, not summaries: fixed buckets add up across replicas (issue 16).
    expect(text).toContain('# TYPE rxjs_inference_inference_batch_latency_micro_secs histogram');
    expect(text).not.toContain('quantile=');

    // Values are read live: a second scrape sees new batches without re-exporting.
    metrics.recordBatch(5, 80, 1);
    expect(samples(await promRegistry.metrics())).toContain(
      'rxjs_inference_num_inferences_total{namespace="RunInference",model=""} 15',
    );
  });

  it('publishes the families of RunInference at once (HELP/TYPE, no samples yet) and later metrics when they appear', async () => {
    const registry = new MetricsRegistry();
    registry.gauge({ namespace: 'App', name: 'models-in-memory' }).set(2);
    const promRegistry = new prom.Registry();
    const published = exportToPrometheus(registry, { promRegistry, prefix: 'app_' });
    expect(published.names()).toEqual(
      expect.arrayContaining([
        'app_num_inferences_total',
        'app_model_byte_size',
        'app_load_model_latency_milli_secs',
        'app_model_load_failures_total',
        'app_queue_wait_milli_secs',
        'app_models_in_memory',
      ]),
    );
    let text = await promRegistry.metrics();
    expect(text).toContain('# TYPE app_model_byte_size histogram');
    expect(samples(text)).toEqual(['app_models_in_memory{namespace="App",model=""} 2']);

    registry.counter({ namespace: 'App', name: 'custom', prefix: 'k1-' }).inc(7);
    registry.distribution('App/1st_latency').update(3);
    text = await promRegistry.metrics();
    expect(samples(text)).toContain('app_custom_total{namespace="App",model="k1"} 7');
    expect(samples(text)).toContain('app_1st_latency_count{namespace="App",model=""} 1');
    expect(text).toContain('# HELP app_custom_total custom (counter from the rxjs-inference MetricsRegistry).');
  });

  it("uses the prom module's default registry when no promRegistry is given, and unregisters cleanly", async () => {
    const registry = new MetricsRegistry();
    new RunInferenceMetrics(registry, 'RunInference').recordLoad(12, 1000);
    const published = exportToPrometheus(registry, { prom, prefix: 'default_reg_test_' });
    try {
      const text = await prom.register.metrics();
      expect(samples(text)).toContain('default_reg_test_model_byte_size_sum{namespace="RunInference",model=""} 1000');
    } finally {
      published.unregister();
    }
    expect(await prom.register.metrics()).not.toContain('default_reg_test_');
    registry.counter('RunInference/after_unregister').inc();
    expect(await prom.register.metrics()).not.toContain('after_unregister');
    expect(published.names()).toEqual([]);
  });

  it('works with an OpenMetrics registry (counters renamed in place) and unregisters it', async () => {
    const registry = new MetricsRegistry();
    new RunInferenceMetrics(registry, 'RunInference').recordBatch(2, 2, 2);
    const promRegistry = new prom.Registry<prom.OpenMetricsContentType>();
    promRegistry.setContentType(prom.openMetricsContentType);
    const published = exportToPrometheus(registry, { promRegistry });
    const text = await promRegistry.metrics();
    expect(text).toContain('# TYPE rxjs_inference_num_inferences counter');
    expect(samples(text)).toContain('rxjs_inference_num_inferences_total{namespace="RunInference",model=""} 2');
    published.unregister();
    expect(promRegistry.getMetricsAsArray()).toEqual([]);
  });

  it('leaves prom-client values alone on resetMetrics (reset the MetricsRegistry instead)', async () => {
    const registry = new MetricsRegistry();
    registry.counter('RunInference/num_inferences').inc(5);
    const promRegistry = new prom.Registry();
    exportToPrometheus(registry, { promRegistry });
    promRegistry.resetMetrics();
    expect(samples(await promRegistry.metrics())).toContain(
      'rxjs_inference_num_inferences_total{namespace="RunInference",model=""} 5',
    );
    registry.reset();
    expect(samples(await promRegistry.metrics())).toContain(
      'rxjs_inference_num_inferences_total{namespace="RunInference",model=""} 0',
    );
  });

  it('reports a clash with an existing metric and leaves nothing half-published', () => {
    const promRegistry = new prom.Registry();
    new prom.Counter({ name: 'rxjs_inference_failed_batches_counter_total', help: 'x', registers: [promRegistry] });
    expect(() => exportToPrometheus(new MetricsRegistry(), { promRegistry })).toThrow(/already been registered/);
    expect(promRegistry.getMetricsAsArray().map((m) => m.name)).toEqual([
      'rxjs_inference_failed_batches_counter_total',
    ]);
  });

  it('skips a later metric whose name is taken by another kind or by someone else', async () => {
    const registry = new MetricsRegistry();
    const promRegistry = new prom.Registry();
    new prom.Gauge({ name: 'rxjs_inference_taken', help: 'theirs', registers: [promRegistry] });
    exportToPrometheus(registry, { promRegistry });
    registry.gauge('NS/taken').set(1);
    registry.gauge('NS/queue_wait_milli_secs').set(9); // a distribution family already has this name
    registry.distribution('NS/queue_wait_milli_secs').update(4);
    const lines = samples(await promRegistry.metrics());
    expect(lines).not.toContain('rxjs_inference_taken{namespace="NS",model=""} 1');
    expect(lines.filter((l) => l.startsWith('rxjs_inference_queue_wait_milli_secs_count'))).toEqual([
      'rxjs_inference_queue_wait_milli_secs_count{namespace="NS",model=""} 1',
    ]);
  });

  describe('config validation', () => {
    const registry = new MetricsRegistry();
    it('needs prom or promRegistry', () => {
      expect(thrown(() => exportToPrometheus(registry, {}))).toMatchObject({
        name: 'TypeError',
        message: expect.stringMatching(/`prom`.*`promRegistry`/),
      });
      expect(thrown(() => exportToPrometheus(registry, undefined as never))).toMatchObject({
        name: 'TypeError',
        message: expect.stringMatching(/`config`/),
      });
      expect(thrown(() => exportToPrometheus(registry, 'x' as never))).toMatchObject({ name: 'TypeError' });
    });
    it('checks prom and promRegistry', () => {
      expect(thrown(() => exportToPrometheus(registry, { prom: {} as never }))).toMatchObject({
        name: 'TypeError',
        message: expect.stringMatching(/`prom`/),
      });
      expect(thrown(() => exportToPrometheus(registry, { promRegistry: {} as never }))).toMatchObject({
        name: 'TypeError',
        message: expect.stringMatching(/`promRegistry`/),
      });
    });
    it('checks the prefix', () => {
      const promRegistry = new prom.Registry();
      expect(thrown(() => exportToPrometheus(registry, { promRegistry, prefix: '1bad' }))).toMatchObject({
        name: 'RangeError',
        message: expect.stringMatching(/`prefix`/),
      });
      expect(thrown(() => exportToPrometheus(registry, { promRegistry, prefix: 3 as never }))).toMatchObject({
        name: 'TypeError',
        message: expect.stringMatching(/`prefix`/),
      });
      exportToPrometheus(registry, { promRegistry, prefix: '' });
      expect(promRegistry.getSingleMetric('num_inferences_total')).toBeDefined();
    });
  });

  it('sanitizes names to Prometheus rules', () => {
    expect(sanitizePrometheusName('a-b.c/d')).toBe('a_b_c_d');
    expect(sanitizePrometheusName('9lives')).toBe('_9lives');
    expect(sanitizePrometheusName('ok:name_1')).toBe('ok:name_1');
  });
});
