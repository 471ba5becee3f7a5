import type { Counter } from '../metrics/Counter.js';
import type { Gauge } from '../metrics/Gauge.js';
import type { MetricsRegistry } from '../metrics/MetricsRegistry.js';

/** The predictor's own metrics, next to `runInference`'s (see `createPredictor`). */
export interface PredictorMetrics {
  readonly queued: Gauge;
  readonly rejected: Counter;
  readonly timeouts: Counter;
  readonly aborted: Counter;
  readonly failed: Counter;
}

/** The predictor's metrics in `registry` under `namespace`, or `undefined` when metrics are off (`false`). */
export function predictorMetrics(registry: MetricsRegistry | false, namespace: string): PredictorMetrics | undefined {
  if (registry === false) return undefined;
  return {
    queued: registry.gauge({ namespace, name: 'predictor_queued_requests' }),
    rejected: registry.counter({ namespace, name: 'predictor_rejected_requests' }),
    timeouts: registry.counter({ namespace, name: 'predictor_timeouts' }),
    aborted: registry.counter({ namespace, name: 'predictor_aborted_requests' }),
    failed: registry.counter({ namespace, name: 'predictor_failed_requests' }),
  };
}
