// Metrics: runInference records Beam's metrics in a MetricsRegistry; read them in process, or serve them to
// Prometheus through prom-client (what most Node services already expose on /metrics).
//
//   npx tsx examples/metrics.ts
import { Registry } from 'prom-client';
import { from, lastValueFrom } from 'rxjs';
import { exportToPrometheus, MetricsRegistry, runInference } from 'rxjs-inference';
import { modelHandler } from 'rxjs-inference/handlers';

async function main(): Promise<void> {
  const metrics = new MetricsRegistry(); // or the process-wide defaultMetricsRegistry
  const promRegistry = new Registry(); // or prom-client's default `register`
  exportToPrometheus(metrics, { promRegistry }); // once, at start-up

  const square = modelHandler({ runInference: (batch: readonly number[]) => batch.map((x) => x * x) });
  await lastValueFrom(from(Array.from({ length: 1000 }, (_, i) => i)).pipe(runInference(square, { metrics })));

  const { counters, distributions } = metrics.snapshot();
  console.log('num_inferences:', counters['RunInference/num_inferences']);
  const sizes = distributions['RunInference/inference_request_batch_size'];
  console.log(`batches: ${sizes.count}, mean size ${sizes.mean.toFixed(1)}, max ${sizes.max}`);

  // What a /metrics endpoint would serve:
  const text = await promRegistry.metrics();
  console.log(
    text
      .split('\n')
      .filter((line) => line.startsWith('rxjs_inference_num_inferences'))
      .join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
