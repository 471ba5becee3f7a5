/** Small statistics and timing helpers of the benchmarks. */

/** The median of `values` (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The `p`-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Elements per second of `run()`, which handles `n` elements (awaited). */
export async function rate(n: number, run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return (n / (performance.now() - start)) * 1000;
}

/** Milliseconds `fn` takes (awaited). */
export async function timeMs(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Runs `warmup` unmeasured rounds, then `reps` rounds of each variant INTERLEAVED (a, b, a, b, …), so that a change
 * of machine load hits every variant alike; returns the measured values per variant.
 */
export async function interleaved<K extends string>(
  variants: Readonly<Record<K, () => Promise<number>>>,
  { reps, warmup = 1 }: { reps: number; warmup?: number },
): Promise<Record<K, number[]>> {
  const keys = Object.keys(variants) as K[];
  for (let w = 0; w < warmup; w++) for (const key of keys) await variants[key]();
  const values = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < reps; r++) {
    // Alternate the order each round, so neither variant always runs right after the other.
    const order = r % 2 === 0 ? keys : [...keys].reverse();
    for (const key of order) values[key].push(await variants[key]());
  }
  return values;
}

/** Formats a number with thousands separators and `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * The median of the per-rep ratios `values[i] / baseline[i]` of two variants measured in the same interleaved reps:
 * adjacent runs meet the same machine load, so this is steadier than the ratio of the two medians.
 */
export function pairedRatio(values: readonly number[], baseline: readonly number[]): number {
  return median(values.map((v, i) => v / baseline[i]));
}
