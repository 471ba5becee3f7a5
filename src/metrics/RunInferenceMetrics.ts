import type { Counter } from './Counter.js';
import type { Distribution } from './Distribution.js';
import type { MetricsRegistry } from './MetricsRegistry.js';

/** Beam's RunInference metric names (`apache_beam.ml.inference.base._MetricsCollector`), plus two of ours. */
export const RUN_INFERENCE_METRIC_NAMES = {
  numInferences: 'num_inferences',
  batchSize: 'inference_request_batch_size',
  batchByteSize: 'inference_request_batch_byte_size',
  batchLatency: 'inference_batch_latency_micro_secs',
  modelByteSize: 'model_byte_size',
  loadLatency: 'load_model_latency_milli_secs',
  failedBatches: 'failed_batches_counter',
  /** Ours: models that failed to load (Beam only logs them). */
  loadFailures: 'model_load_failures',
  /** Ours: how long an element waited in the queue before its batch started. */
  queueWait: 'queue_wait_milli_secs',
  /** Ours (`streamInference`): from an element's arrival to its first partial output. */
  timeToFirstOutput: 'time_to_first_output_milli_secs',
  /** Ours (`streamInference`): an element's partial outputs per second after its first one. */
  outputsPerSecond: 'outputs_per_second',
} as const;

/**
 * Base-name prefix of the device gauges (ours): `model_device_<device>` is set to 1 when a model that says where it
 * runs (the ONNX handlers' `'cpu'`, `'webgpu'`, `'cuda'`) has loaded, e.g. `RunInference/model_device_webgpu`, or
 * `RunInference/v2_model_device_webgpu` after a refresh to a model named `v2`. In Prometheus (an info-style metric):
 * `rxjs_inference_model_device_webgpu{namespace="RunInference",model="v2"} 1`.
 */
export const MODEL_DEVICE_METRIC_PREFIX = 'model_device_';

/**
 * The metrics one `runInference` records, with Beam's names, in a {@link MetricsRegistry}.
 *
 * Naming: every metric is `` `${namespace}/${prefix}${name}` ``: `namespace` is the handler's
 * `getMetricsNamespace()` (`'RunInference'` by default) and `prefix` tells models apart, as Beam does: `''` for the
 * model the stream started with, `'<modelName>_'` after a refresh, `'<group>-'` per key group of a multi-model
 * keyed handler. For example `RunInference/num_inferences`, `RunInference/resnet_v2_num_inferences`.
 *
 * Cost: each metric object is looked up once per prefix (on first use) and kept, so {@link recordBatch}, called once
 * per batch, is a few additions and three sketch updates; {@link withPrefix} returns a cached child.
 *
 * @example
 * ```ts
 * import { MetricsRegistry, RunInferenceMetrics } from 'rxjs-inference';
 * const registry = new MetricsRegistry();
 * const metrics = new RunInferenceMetrics(registry, 'RunInference');
 * metrics.recordBatch(32, 4096, 1.5);
 * metrics.withPrefix('resnet_v2_').recordBatch(8, 1024, 0.5);
 * registry.snapshot().counters;
 * // { 'RunInference/num_inferences': 32, 'RunInference/resnet_v2_num_inferences': 8 }
 * ```
 */
export class RunInferenceMetrics {
  private readonly children = new Map<string, RunInferenceMetrics>();
  private numInferences: Counter | undefined;
  private batchSize: Distribution | undefined;
  private batchByteSize: Distribution | undefined;
  private batchLatency: Distribution | undefined;
  private modelByteSize: Distribution | undefined;
  private loadLatency: Distribution | undefined;
  private failedBatches: Counter | undefined;
  private loadFailures: Counter | undefined;
  private queueWait: Distribution | undefined;
  private timeToFirstOutput: Distribution | undefined;
  private outputsPerSecond: Distribution | undefined;

  /**
   * @param registry Where the metrics live (e.g. `defaultMetricsRegistry`).
   * @param namespace The handler's `getMetricsNamespace()`; `'RunInference'` by default in handlers.
   * @param prefix Prepended to every metric's base name (include the separator: `'model_'`, `'group-'`).
   */
  constructor(
    readonly registry: MetricsRegistry,
    readonly namespace: string,
    readonly prefix: string = '',
  ) {}

  /**
   * The metrics of the same namespace with `prefix` appended to this one's prefix (so on the root object, where
   * the prefix is `''`, the child's prefix is exactly `prefix`). Children are cached: the same prefix gives the same
   * object, sharing the registry.
   */
  withPrefix(prefix: string): RunInferenceMetrics {
    if (prefix === '') return this;
    let child = this.children.get(prefix);
    if (child === undefined) {
      child = new RunInferenceMetrics(this.registry, this.namespace, this.prefix + prefix);
      this.children.set(prefix, child);
    }
    return child;
  }

  /**
   * One batch ran: `num_inferences += size`; `size`, `byteSize` and the latency (in whole microseconds) go to the
   * `inference_request_batch_size`, `inference_request_batch_byte_size` and `inference_batch_latency_micro_secs`
   * distributions.
   */
  recordBatch(size: number, byteSize: number, latencyMs: number): void {
    (this.numInferences ??= this.counter(RUN_INFERENCE_METRIC_NAMES.numInferences)).inc(size);
    (this.batchSize ??= this.distribution(RUN_INFERENCE_METRIC_NAMES.batchSize)).update(size);
    (this.batchByteSize ??= this.distribution(RUN_INFERENCE_METRIC_NAMES.batchByteSize)).update(byteSize);
    (this.batchLatency ??= this.distribution(RUN_INFERENCE_METRIC_NAMES.batchLatency)).update(
      Math.round(latencyMs * 1000),
    );
  }

  /** A model loaded: `load_model_latency_milli_secs`, and `model_byte_size` when the size is known. */
  recordLoad(latencyMs: number, modelByteSize?: number): void {
    (this.loadLatency ??= this.distribution(RUN_INFERENCE_METRIC_NAMES.loadLatency)).update(latencyMs);
    if (modelByteSize !== undefined) {
      (this.modelByteSize ??= this.distribution(RUN_INFERENCE_METRIC_NAMES.modelByteSize)).update(modelByteSize);
    }
  }

  /** A model loaded on `device`: the gauge `model_device_<device>` is 1 (see {@link MODEL_DEVICE_METRIC_PREFIX}). */
  recordDevice(device: string): void {
    const name = MODEL_DEVICE_METRIC_PREFIX + device.replace(/[^a-zA-Z0-9_]/g, '_');
    this.registry.gauge({ namespace: this.namespace, prefix: this.prefix, name }).set(1);
  }

  /** A batch failed: `failed_batches_counter += 1`. */
  recordFailedBatch(): void {
    (this.failedBatches ??= this.counter(RUN_INFERENCE_METRIC_NAMES.failedBatches)).inc();
  }

  /** A model failed to load: `model_load_failures += 1` (ours; Beam only logs it). */
  recordLoadFailure(): void {
    (this.loadFailures ??= this.counter(RUN_INFERENCE_METRIC_NAMES.loadFailures)).inc();
  }

  /**
   * Time spent queued before a batch started, in ms: `queue_wait_milli_secs` (ours). `runInference` records it once
   * per batch, for the batch's oldest element.
   */
  recordQueueWait(ms: number): void {
    (this.queueWait ??= this.distribution(RUN_INFERENCE_METRIC_NAMES.queueWait)).update(ms);
  }

  /** `streamInference`: an element's first partial output came `ms` after it arrived (`time_to_first_output_milli_secs`). */
  recordTimeToFirstOutput(ms: number): void {
    (this.timeToFirstOutput ??= this.distribution(RUN_INFERENCE_METRIC_NAMES.timeToFirstOutput)).update(ms);
  }

  /** `streamInference`: an element's partial outputs per second after its first one (`outputs_per_second`). */
  recordOutputsPerSecond(rate: number): void {
    (this.outputsPerSecond ??= this.distribution(RUN_INFERENCE_METRIC_NAMES.outputsPerSecond)).update(rate);
  }

  private counter(name: string): Counter {
    return this.registry.counter({ namespace: this.namespace, name, prefix: this.prefix });
  }

  private distribution(name: string): Distribution {
    return this.registry.distribution({ namespace: this.namespace, name, prefix: this.prefix });
  }
}
