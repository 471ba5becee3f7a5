import { MetricsRegistry, RunInferenceMetrics } from '../../src/index';

describe('RunInferenceMetrics', () => {
  it("records a batch with Beam's names in the handler's namespace", () => {
    const registry = new MetricsRegistry();
    const metrics = new RunInferenceMetrics(registry, 'RunInference');
    metrics.recordBatch(32, 4096, 1.5);
    metrics.recordBatch(8, 1024, 0.25);
    const { counters, distributions } = registry.snapshot();
    expect(counters).toEqual({ 'RunInference/num_inferences': 40 });
    expect(distributions['RunInference/inference_request_batch_size']).toMatchObject({
      count: 2,
      sum: 40,
      min: 8,
      max: 32,
    });
    expect(distributions['RunInference/inference_request_batch_byte_size']).toMatchObject({ sum: 5120, max: 4096 });
    // Latency in whole microseconds, as Beam records it.
    expect(distributions['RunInference/inference_batch_latency_micro_secs']).toMatchObject({
      count: 2,
      sum: 1750,
      min: 250,
      max: 1500,
    });
    expect(Object.keys(distributions).sort()).toEqual([
      'RunInference/inference_batch_latency_micro_secs',
      'RunInference/inference_request_batch_byte_size',
      'RunInference/inference_request_batch_size',
    ]);
  });

  it('records loads, failures and queue waits; model_byte_size only when known', () => {
    const registry = new MetricsRegistry();
    const metrics = new RunInferenceMetrics(registry, 'MyHandler');
    metrics.recordLoad(120);
    expect(registry.snapshot().distributions['MyHandler/model_byte_size']).toBeUndefined();
    metrics.recordLoad(80, 2_000_000);
    metrics.recordFailedBatch();
    metrics.recordFailedBatch();
    metrics.recordLoadFailure();
    metrics.recordQueueWait(3);
    metrics.recordQueueWait(5);
    const { counters, distributions } = registry.snapshot();
    expect(counters).toEqual({ 'MyHandler/failed_batches_counter': 2, 'MyHandler/model_load_failures': 1 });
    expect(distributions['MyHandler/load_model_latency_milli_secs']).toMatchObject({ count: 2, sum: 200 });
    expect(distributions['MyHandler/model_byte_size']).toMatchObject({ count: 1, sum: 2_000_000 });
    expect(distributions['MyHandler/queue_wait_milli_secs']).toMatchObject({ count: 2, mean: 4 });
  });

  it('withPrefix gives a cached child whose metrics are prefixed; prefixes compose', () => {
    const registry = new MetricsRegistry();
    const root = new RunInferenceMetrics(registry, 'RunInference');
    const v2 = root.withPrefix('resnet_v2_');
    expect(root.withPrefix('resnet_v2_')).toBe(v2);
    expect(root.withPrefix('')).toBe(root);
    expect(v2).toMatchObject({ registry, namespace: 'RunInference', prefix: 'resnet_v2_' });
    const grouped = root.withPrefix('g1-').withPrefix('m_');
    expect(grouped.prefix).toBe('g1-m_');
    root.recordBatch(1, 1, 1);
    v2.recordBatch(2, 2, 2);
    grouped.recordFailedBatch();
    expect(registry.snapshot().counters).toEqual({
      'RunInference/num_inferences': 1,
      'RunInference/resnet_v2_num_inferences': 2,
      'RunInference/g1-m_failed_batches_counter': 1,
    });
    expect(registry.counter({ namespace: 'RunInference', name: 'num_inferences', prefix: 'resnet_v2_' }).value).toBe(2);
  });

  it('resolves metric objects once per prefix, not per call', () => {
    const registry = new MetricsRegistry();
    const lookups = jest.spyOn(registry, 'counter');
    const distributions = jest.spyOn(registry, 'distribution');
    const metrics = new RunInferenceMetrics(registry, 'RunInference');
    for (let i = 0; i < 100; i++) metrics.recordBatch(4, 16, 0.1);
    expect(lookups).toHaveBeenCalledTimes(1);
    expect(distributions).toHaveBeenCalledTimes(3);
    expect(registry.snapshot().counters['RunInference/num_inferences']).toBe(400);
  });

  it('keeps recording into the same registry after reset', () => {
    const registry = new MetricsRegistry();
    const metrics = new RunInferenceMetrics(registry, 'RunInference');
    metrics.recordBatch(3, 3, 3);
    registry.reset();
    metrics.recordBatch(2, 2, 2);
    expect(registry.snapshot().counters['RunInference/num_inferences']).toBe(2);
  });
});
