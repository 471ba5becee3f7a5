import { RUN_INFERENCE_METRIC_NAMES as N } from './RunInferenceMetrics.js';

const powers = (base: number, from: number, to: number): number[] => {
  const out: number[] = [];
  for (let e = from; e <= to; e++) out.push(base ** e);
  return out;
};
/** 1, 2.5, 5 per decade, from 10^from to 10^to. */
const decades = (from: number, to: number): number[] =>
  powers(10, from, to).flatMap((p, i, all) => (i === all.length - 1 ? [p] : [p, 2.5 * p, 5 * p]));

// Upper bounds (`le`) of each distribution's Prometheus histogram: fixed, so that replicas' histograms add up (a
// summary's quantiles cannot be aggregated across processes). Latencies span 100 µs to 100 s, sizes powers of two.
const BUCKETS: Readonly<Record<string, readonly number[]>> = {
  [N.batchSize]: powers(2, 0, 14), // 1 … 16384 elements
  [N.batchByteSize]: powers(4, 5, 15), // 1 KiB … 1 GiB
  [N.modelByteSize]: powers(4, 5, 17), // 1 KiB … 16 GiB
  [N.batchLatency]: decades(2, 8), // 100 µs … 100 s, in µs
  [N.loadLatency]: decades(0, 6), // 1 ms … 1000 s
  [N.queueWait]: decades(-1, 5), // 0.1 ms … 100 s
  [N.timeToFirstOutput]: decades(-1, 5),
  [N.outputsPerSecond]: decades(0, 5),
};
/** Any other distribution (a user's): 1, 2.5, 5 per decade from 0.001 to 1e6. */
const DEFAULT_BUCKETS = decades(-3, 6);

/** The histogram upper bounds (`le`, ascending, `+Inf` not included) of a distribution with this base name. */
export function prometheusBuckets(baseName: string): readonly number[] {
  return BUCKETS[baseName] ?? DEFAULT_BUCKETS;
}
