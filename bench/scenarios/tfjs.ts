import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeMlpLayersModel } from '../../scripts/fixtures/tfjs';
import type { Library } from '../lib';
import { pipeline } from '../pipeline';
import type { BenchRow } from '../result';
import { fmt, interleaved, median } from '../stats';
import { row } from './onnx';

/** P5: the same MLP on TensorFlow.js's wasm backend: runInference vs a raw `predict` loop at its best batch size. */
export async function tfjsScenario({
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
  tf.env().set('IS_TEST', true);
  const dir = await mkdtemp(join(tmpdir(), 'rxjs-inference-bench-'));
  try {
    const fixture = await writeMlpLayersModel(tf, dir);
    const handler = new lib.TfjsModelHandler({ modelUri: fixture.modelJson, modelType: 'layers', backend: 'wasm' });
    const loaded = await handler.loadModel();
    const model = loaded.model as tf.LayersModel;
    const api = loaded.tf as unknown as typeof tf;
    const distinct = Array.from({ length: 64 }, (_, e) =>
      Float32Array.from({ length: 512 }, (_, i) => Math.sin(e + i)),
    );
    const elements = Array.from({ length: n }, (_, i) => ({ data: distinct[i % 64], shape: [512] }));
    const raw = (size: number) => {
      const data = new Float32Array(size * 512);
      for (let p = 0; p < size; p++) data.set(distinct[p % 64], p * 512);
      return async () => {
        const start = performance.now();
        for (let done = 0; done < n; done += size) {
          const x = api.tensor2d(data, [size, 512]);
          const y = model.predict(x) as tf.Tensor;
          await y.data();
          x.dispose();
          y.dispose();
        }
        return (n / (performance.now() - start)) * 1000;
      };
    };
    await raw(32)();
    const scan: Record<number, number> = {};
    for (const size of [16, 32, 64, 128]) scan[size] = await raw(size)();
    const best = Number(Object.entries(scan).sort((a, b) => b[1] - a[1])[0][0]);
    log(
      `  tfjs wasm predict scan: ${Object.entries(scan)
        .map(([b, r]) => `${b}: ${fmt(r)}/s`)
        .join(', ')} → best ${best}`,
    );
    const pipe = pipeline<(typeof elements)[number]>(lib, handler);
    const values = await interleaved(
      {
        raw: raw(best),
        lib: async () => {
          const start = performance.now();
          await pipe.round(elements);
          return (n / (performance.now() - start)) * 1000;
        },
      },
      { reps },
    );
    pipe.close();
    await handler.releaseModel(loaded);
    return [
      row(
        'P5',
        'TF.js wasm MLP: runInference vs raw predict at best batch',
        median(values.lib),
        median(values.raw),
        0.95,
        {
          unit: 'elements/s',
          note: `median of ${reps}, ${fmt(n)} elements per round into a long-lived pipeline, interleaved; raw best batch ${best}`,
        },
      ),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
