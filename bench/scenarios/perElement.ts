import * as ort from 'onnxruntime-node';
import { Subject } from 'rxjs';
import { identity } from '../../scripts/fixtures/onnx';
import type { Library } from '../lib';
import type { BenchRow } from '../result';
import { fmt, interleaved, median } from '../stats';
import { row } from './onnx';

const WIDTH = 512;
/** The raw loop's batch: the library's default `maxBatchSize` for ONNX on the CPU. */
const BATCH = 512;

/**
 * P6: the library's own cost per element. An ONNX `Identity` model of 512 float32 values costs next to nothing, so
 * `runInference` against a raw stack → `session.run` → split-into-views loop measures what the pipeline adds.
 */
export async function perElementScenario({
  lib,
  elements: n,
  reps,
  log,
}: {
  lib: Library;
  elements: number;
  reps: number;
  log: (line: string) => void;
}): Promise<BenchRow[]> {
  const fixture = identity(WIDTH);
  const distinct = fixture.sample(256, 1).map((e) => e.x.data as Float32Array);
  const elements = Array.from({ length: n }, (_, i) => distinct[i % distinct.length]);
  const session = await ort.InferenceSession.create(fixture.bytes);
  const timed = async (run: () => Promise<number>) => {
    const start = performance.now();
    const count = await run();
    if (count !== n) throw new Error(`P6: expected ${n} results, got ${count}`);
    return (n / (performance.now() - start)) * 1000;
  };

  // The hand-written loop: a fresh buffer per batch, each element set() at its offset, one run, one view per element.
  const raw = () =>
    timed(async () => {
      let count = 0;
      for (let start = 0; start < n; start += BATCH) {
        const size = Math.min(BATCH, n - start);
        const data = new Float32Array(size * WIDTH);
        for (let p = 0; p < size; p++) data.set(elements[start + p], p * WIDTH);
        const { y } = await session.run({ x: new ort.Tensor('float32', data, [size, WIDTH]) });
        const out = y.data as Float32Array;
        for (let p = 0; p < size; p++) if (out.subarray(p * WIDTH, (p + 1) * WIDTH).length === WIDTH) count++;
      }
      return count;
    });

  // The library, default configuration, in a long-lived pipeline (model loaded once, like the raw session).
  const input = new Subject<Float32Array>();
  let pending: { left: number; count: number; resolve: (count: number) => void } | undefined;
  input.pipe(lib.runInference(new lib.OnnxModelHandler<Float32Array>({ modelUri: fixture.bytes }))).subscribe({
    next: (result) => {
      const p = pending!;
      if ((result.inference as { data: Float32Array }).data.length === WIDTH) p.count++;
      if (--p.left === 0) p.resolve(p.count);
    },
  });
  const library = () =>
    timed(
      () =>
        new Promise<number>((resolve) => {
          pending = { left: n, count: 0, resolve };
          for (const element of elements) input.next(element);
        }),
    );

  // Three warm-up rounds each: the first rounds of a fresh pipeline still run in lower JIT tiers.
  const values = await interleaved({ raw, library }, { reps, warmup: 3 });
  input.complete();
  await session.release();
  const [rawRate, libRate] = [median(values.raw), median(values.library)];
  const costUs = 1e6 / libRate - 1e6 / rawRate;
  log(
    `  P6 identity: raw ${fmt(rawRate)}/s, runInference ${fmt(libRate)}/s, library cost ${fmt(costUs, 2)} µs/element`,
  );
  return [
    row(
      'P6',
      'per-element cost: ONNX Identity (512 floats), runInference vs raw stack → run → split loop',
      libRate,
      rawRate,
      0.8,
      {
        unit: 'elements/s',
        note:
          `median of ${reps} after 3 warm-up rounds each, ${fmt(n)} elements per round (synchronous burst into a long-lived pipeline), interleaved; ` +
          `raw batch ${BATCH}; the library adds ${fmt(costUs, 2)} µs per element (raw: ${fmt(1e6 / rawRate, 2)} µs)`,
      },
    ),
  ];
}
