/** A distribution's values at one moment; every field is 0 while `count` is 0. */
export interface DistributionSnapshot {
  /** Number of recorded values. */
  readonly count: number;
  /** Sum of the recorded values. */
  readonly sum: number;
  /** Smallest recorded value (exact). */
  readonly min: number;
  /** Largest recorded value (exact). */
  readonly max: number;
  /** `sum / count`. */
  readonly mean: number;
  /** Median, within {@link Distribution.RELATIVE_ACCURACY} of a true recorded value. */
  readonly p50: number;
  /** 90th percentile, within the same relative accuracy. */
  readonly p90: number;
  /** 99th percentile, within the same relative accuracy. */
  readonly p99: number;
}

// Quantiles come from a log-bucketed sketch (the DDSketch idea, Masson et al., VLDB 2019): a value v > 0 goes to
// bucket ceil(log_γ v) with γ = (1 + α) / (1 − α), whose representative value is within α of every value in it.
// Deterministic (unlike a random reservoir, so tests and dashboards agree run to run), O(1) per update (one log and
// one Map update) and bounded: at most MAX_BUCKETS buckets per sign; beyond that the smallest magnitudes are merged,
// which only loses accuracy at the low end (p50–p99 of latencies and sizes live at the high end).
const ALPHA = 0.01;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LN_GAMMA = Math.log(GAMMA);
const MAX_BUCKETS = 2048;
const COLLAPSE_TO = MAX_BUCKETS - 128;

/**
 * A distribution of numbers (Beam's `Metrics.distribution`): exact count, sum, min, max and mean, plus p50/p90/p99
 * from a bounded log-bucket sketch with 1 % relative accuracy. Memory is bounded (at most 2 × 2048 buckets, whatever
 * the number of values); `update` costs one logarithm and one map update.
 *
 * @example
 * ```ts
 * import { defaultMetricsRegistry } from 'rxjs-inference';
 * const latency = defaultMetricsRegistry.distribution('MyStage/latency_milli_secs');
 * latency.update(12);
 * latency.snapshot(); // { count: 1, sum: 12, min: 12, max: 12, mean: 12, p50: 12, p90: 12, p99: 12 }
 * ```
 */
export class Distribution {
  /** The relative accuracy of the percentiles (1 %). */
  static readonly RELATIVE_ACCURACY = ALPHA;
  /** The most buckets kept per sign. */
  static readonly MAX_BUCKETS = MAX_BUCKETS;

  private n = 0;
  private total = 0;
  private lo = Infinity;
  private hi = -Infinity;
  private zeros = 0;
  private readonly positive = new Store();
  private readonly negative = new Store();
  private observers: ((value: number) => void)[] | undefined;

  /**
   * @param fullName `namespace/prefix+name`, the key in {@link MetricsRegistry.snapshot}.
   * @param namespace Beam's metric namespace.
   * @param name The base name.
   * @param prefix What tells this metric apart from others of the same name.
   */
  constructor(
    readonly fullName: string,
    readonly namespace: string,
    readonly name: string,
    readonly prefix: string,
  ) {}

  /** Records a value. Non-finite values (NaN, ±Infinity) are ignored so that they cannot poison sum and mean. */
  update(value: number): void {
    if (!Number.isFinite(value)) return;
    if (this.observers !== undefined) for (const observer of this.observers) observer(value);
    this.n += 1;
    this.total += value;
    if (value < this.lo) this.lo = value;
    if (value > this.hi) this.hi = value;
    if (value === 0) {
      this.zeros += 1;
    } else if (value > 0) {
      this.positive.add(Math.ceil(Math.log(value) / LN_GAMMA));
    } else {
      this.negative.add(Math.ceil(Math.log(-value) / LN_GAMMA));
    }
  }

  /** Number of recorded values. */
  get count(): number {
    return this.n;
  }

  /** Sum of the recorded values. */
  get sum(): number {
    return this.total;
  }

  /** Smallest recorded value, 0 when empty. */
  get min(): number {
    return this.n === 0 ? 0 : this.lo;
  }

  /** Largest recorded value, 0 when empty. */
  get max(): number {
    return this.n === 0 ? 0 : this.hi;
  }

  /** Mean of the recorded values, 0 when empty. */
  get mean(): number {
    return this.n === 0 ? 0 : this.total / this.n;
  }

  /**
   * The `q`-quantile (`0 ≤ q ≤ 1`) of the recorded values, within 1 % of a recorded value; `quantile(0)` is the exact
   * min and `quantile(1)` the exact max; 0 when empty.
   */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    if (!(q > 0)) return this.lo;
    if (q >= 1) return this.hi;
    const rank = q * (this.n - 1);
    let seen = 0;
    // Ascending order of value: negatives by descending magnitude, then zeros, then positives.
    const negative = this.negative.buckets;
    for (const index of [...negative.keys()].sort((a, b) => b - a)) {
      seen += negative.get(index)!;
      if (seen > rank) return this.clamp(-representative(index));
    }
    seen += this.zeros;
    if (seen > rank) return 0;
    const positive = this.positive.buckets;
    for (const index of [...positive.keys()].sort((a, b) => a - b)) {
      seen += positive.get(index)!;
      if (seen > rank) return this.clamp(representative(index));
    }
    return this.hi; // unreachable unless rounding: the counts add up to n
  }

  /**
   * How many recorded values are at most `upper` (a histogram bucket's cumulative count). Exact below the smallest and
   * from the largest value on, and for a value equal to `upper` (an integer batch size on a power-of-two bound);
   * otherwise a value less than 2 % above `upper` (in the same sketch bucket) may count as below it.
   */
  countAtMost(upper: number): number {
    if (this.n === 0 || upper < this.lo) return 0;
    if (upper >= this.hi) return this.n;
    // A sketch bucket i holds values in (γ^(i-1), γ^i]: it counts when its lower edge is below `upper`.
    let count = upper >= 0 ? this.zeros : 0;
    for (const [index, c] of this.negative.buckets) if (-Math.pow(GAMMA, index) <= upper) count += c;
    for (const [index, c] of this.positive.buckets) if (Math.pow(GAMMA, index - 1) < upper) count += c;
    return count;
  }

  /**
   * Calls `observer` with each value recorded from now on (exporters that record value by value, such as
   * OpenTelemetry histograms). Returns a function that stops it.
   */
  observe(observer: (value: number) => void): () => void {
    this.observers = [...(this.observers ?? []), observer];
    return () => {
      const rest = (this.observers ?? []).filter((o) => o !== observer);
      this.observers = rest.length === 0 ? undefined : rest;
    };
  }

  /** count, sum, min, max, mean, p50, p90, p99 as a plain object. */
  snapshot(): DistributionSnapshot {
    return {
      count: this.n,
      sum: this.total,
      min: this.min,
      max: this.max,
      mean: this.mean,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
    };
  }

  /** Forgets every recorded value (the object stays registered and valid). */
  reset(): void {
    this.n = 0;
    this.total = 0;
    this.lo = Infinity;
    this.hi = -Infinity;
    this.zeros = 0;
    this.positive.clear();
    this.negative.clear();
  }

  private clamp(value: number): number {
    return Math.min(this.hi, Math.max(this.lo, value));
  }
}

function representative(index: number): number {
  return (2 * Math.pow(GAMMA, index)) / (GAMMA + 1);
}

/** Buckets of one sign; indexes below `floor` have been merged into it. */
class Store {
  readonly buckets = new Map<number, number>();
  floor = -Infinity;

  add(index: number): void {
    const i = index < this.floor ? this.floor : index;
    this.buckets.set(i, (this.buckets.get(i) ?? 0) + 1);
    if (this.buckets.size > MAX_BUCKETS) this.collapseLowest();
  }

  clear(): void {
    this.buckets.clear();
    this.floor = -Infinity;
  }

  /** Merges the lowest-magnitude buckets into one, leaving COLLAPSE_TO buckets (slack so this sort is rare). */
  private collapseLowest(): void {
    const indexes = [...this.buckets.keys()].sort((a, b) => a - b);
    const excess = indexes.length - COLLAPSE_TO;
    const target = indexes[excess];
    let merged = 0;
    for (let i = 0; i < excess; i++) {
      merged += this.buckets.get(indexes[i])!;
      this.buckets.delete(indexes[i]);
    }
    this.buckets.set(target, this.buckets.get(target)! + merged);
    this.floor = target;
  }
}
