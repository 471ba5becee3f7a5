import * as prom from 'prom-client';
import { BehaviorSubject, from, lastValueFrom, Subject, toArray } from 'rxjs';
import type { ModelMetadata } from '../../src/index';
import { exportToPrometheus, MetricsRegistry, modelHandler, runInference } from '../../src/index';

/** Waits (by event-loop turns) until `condition` holds; fails after 5 s instead of hanging. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('metrics recorded through runInference', () => {
  it("records Beam's metrics for every batch of a real pipeline, and they reach Prometheus", async () => {
    const registry = new MetricsRegistry();
    const promRegistry = new prom.Registry();
    exportToPrometheus(registry, { promRegistry });
    const sizes: number[] = [];
    const double = modelHandler({
      loadModel: () => 2,
      runInference: (batch: readonly number[], factor: number) => {
        sizes.push(batch.length);
        return batch.map((x) => x * factor);
      },
      getNumBytes: (batch: readonly number[]) => batch.length * 8,
    });
    const out = await lastValueFrom(
      from(Array.from({ length: 100 }, (_, i) => i)).pipe(runInference(double, { metrics: registry }), toArray()),
    );
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));

    const { counters, distributions } = registry.snapshot();
    expect(counters['RunInference/num_inferences']).toBe(100);
    expect(counters['RunInference/failed_batches_counter'] ?? 0).toBe(0);
    expect(distributions['RunInference/inference_request_batch_size']).toMatchObject({
      count: sizes.length,
      sum: 100,
      max: Math.max(...sizes),
    });
    expect(distributions['RunInference/inference_request_batch_byte_size']).toMatchObject({ sum: 800 });
    expect(distributions['RunInference/inference_batch_latency_micro_secs'].count).toBe(sizes.length);
    expect(distributions['RunInference/load_model_latency_milli_secs'].count).toBe(1);
    expect(distributions['RunInference/queue_wait_milli_secs'].count).toBeGreaterThanOrEqual(1);

    const text = await promRegistry.metrics();
    expect(text).toContain('rxjs_inference_num_inferences_total{namespace="RunInference",model=""} 100');
    expect(text).toContain(
      `rxjs_inference_inference_request_batch_size_count{namespace="RunInference",model=""} ${sizes.length}`,
    );
  });

  it("prefixes metrics with the refreshed model's name, in the handler's namespace, and counts failed batches", async () => {
    const registry = new MetricsRegistry();
    const models = new BehaviorSubject<ModelMetadata>({ modelId: 'x1', modelName: '' });
    const scale = modelHandler({
      loadModel: (id?: string) => (id === 'x10' ? 10 : 1),
      runInference: (batch: readonly number[], factor: number) => {
        if (batch.includes(-1)) throw new Error('negative');
        return batch.map((x) => x * factor);
      },
      getMetricsNamespace: 'Scaler',
    });
    const source = new Subject<number>();
    const results: number[] = [];
    let error: unknown;
    source.pipe(runInference(scale, { metrics: registry, modelMetadata: models })).subscribe({
      next: (r) => results.push(r),
      error: (e) => (error = e),
    });
    source.next(1);
    await until(() => results.length === 1);
    models.next({ modelId: 'x10', modelName: 'big' });
    // The new model loads in the background; keep feeding until it serves.
    const deadline = Date.now() + 5000;
    while (results[results.length - 1] !== 20) {
      if (Date.now() > deadline) throw new Error('the refreshed model never served');
      const before = results.length;
      source.next(2);
      await until(() => results.length > before);
    }
    source.next(-1);
    await until(() => error !== undefined);

    const { counters, distributions } = registry.snapshot();
    const plain = results.filter((r) => r !== 20).length;
    expect(counters['Scaler/num_inferences']).toBe(plain);
    expect(counters['Scaler/big_num_inferences']).toBe(1);
    expect(counters['Scaler/big_failed_batches_counter']).toBe(1);
    expect(distributions['Scaler/big_load_model_latency_milli_secs'].count).toBe(1);
  });
});
