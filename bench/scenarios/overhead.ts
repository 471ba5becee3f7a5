import { bufferCount, concatMap, from, Observable } from 'rxjs';
import type { Library } from '../lib';
import type { BenchRow } from '../result';
import { fmt, interleaved, median } from '../stats';
import { row } from './onnx';

/** Counts what a stream emits; resolves at completion. */
function drain(source: Observable<unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    source.subscribe({ next: () => n++, error: reject, complete: () => resolve(n) });
  });
}

/**
 * P2 and scaling: the operator's own cost, with a synchronous no-op model (returns the batch), against a hand-written
 * `bufferCount(64)` + `concatMap` pipeline; and 10^5 vs 10^6 elements from a synchronous source.
 */
export async function overheadScenarios({
  lib,
  reps,
  log,
}: {
  lib: Library;
  reps: number;
  log: (line: string) => void;
}): Promise<BenchRow[]> {
  const noop = lib.modelHandler({ loadModel: () => undefined, runInference: (batch: readonly number[]) => batch });
  const input = (n: number) => Array.from({ length: n }, (_, i) => i);
  const million = input(1_000_000);
  const hundredK = input(100_000);
  const timed = async (n: number, run: () => Promise<number>) => {
    const start = performance.now();
    const count = await run();
    if (count !== n) throw new Error(`expected ${n} results, got ${count}`);
    return performance.now() - start;
  };
  const rateOf = (n: number, run: () => Promise<number>) => async () => (n / (await timed(n, run))) * 1000;
  const handWritten = (source: Observable<number>) =>
    source.pipe(
      bufferCount(64),
      concatMap((batch) => noop.runInference(batch, undefined, undefined as never) as readonly number[]),
    );
  const values = await interleaved(
    {
      handWritten: rateOf(million.length, () => drain(from(million).pipe(handWritten))),
      runInference: rateOf(million.length, () => drain(from(million).pipe(lib.runInference(noop)))),
      noMetrics: rateOf(million.length, () => drain(from(million).pipe(lib.runInference(noop, { metrics: false })))),
    },
    { reps },
  );
  const [hand, lib1, lib0] = [values.handWritten, values.runInference, values.noMetrics].map(median);
  log(`  no-op: hand-written ${fmt(hand)}/s, runInference ${fmt(lib1)}/s (metrics off ${fmt(lib0)}/s)`);

  const scaling = await interleaved(
    {
      small: () => timed(hundredK.length, () => drain(from(hundredK).pipe(lib.runInference(noop)))),
      large: () => timed(million.length, () => drain(from(million).pipe(lib.runInference(noop)))),
      handSmall: () => timed(hundredK.length, () => drain(from(hundredK).pipe(handWritten))),
      handLarge: () => timed(million.length, () => drain(from(million).pipe(handWritten))),
    },
    { reps },
  );
  const [smallMs, largeMs] = [median(scaling.small), median(scaling.large)];
  const handRatio = median(scaling.handLarge) / median(scaling.handSmall);
  const ratio = largeMs / smallMs;
  return [
    row('P2', 'operator overhead, no-op model: runInference vs bufferCount(64) + concatMap', lib1, hand, 1.0, {
      unit: 'elements/s',
      note: `10^6 numbers from(array), default config (metrics on); metrics off: ${fmt(lib0)}/s; median of ${reps}`,
    }),
    {
      id: 'P2',
      name: 'operator throughput, no-op model (absolute)',
      value: lib1,
      unit: 'elements/s',
      target: '≥ 2,000,000/s',
      pass: lib1 >= 2_000_000,
      note: 'same runs as the line above',
    },
    {
      id: 'S',
      name: 'scaling: time of 10^6 / time of 10^5 elements (synchronous source, no-op model)',
      value: largeMs,
      baseline: smallMs,
      ratio,
      unit: 'ms',
      target: '≈ 10× (≤ 12×)',
      pass: ratio <= 12,
      note:
        `median of ${scaling.small.length}; 10^5: ${fmt(smallMs)} ms, 10^6: ${fmt(largeMs)} ms; the hand-written ` +
        `bufferCount(64) + concatMap pipeline, same runs: ${fmt(handRatio, 2)}× (quadratic would be 100×)`,
    },
  ];
}
