// Live model refresh: watchFilePattern polls a folder for the newest model file and feeds runInference's
// modelMetadata side input. Writing a newer model file swaps the model without stopping the stream; each result names
// the model that produced it.
//
//   npx tsx examples/live-refresh.ts
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interval, map, take } from 'rxjs';
import { runInference, watchFilePattern } from 'rxjs-inference';
import { OnnxModelHandler, type OnnxTensor } from 'rxjs-inference/handlers';
import { mlp } from '../scripts/fixtures/onnx';

const dir = mkdtempSync(join(tmpdir(), 'live-refresh-'));
const v1 = mlp([4, 8, 2], { seed: 1 });
const v2 = mlp([4, 8, 2], { seed: 2 });
writeFileSync(join(dir, 'model-v1.onnx'), v1.bytes);
utimesSync(join(dir, 'model-v1.onnx'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));

// A model file path is what the handler loads when the side input names it.
const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: join(dir, 'model-v1.onnx') });
const models = watchFilePattern(join(dir, '*.onnx'), { intervalMs: 50 });

// After a few elements, a newer model appears.
setTimeout(() => writeFileSync(join(dir, 'model-v2.onnx'), v2.bytes), 250);

interval(40)
  .pipe(
    take(15),
    map(() => new Float32Array([0.1, 0.2, 0.3, 0.4])),
    runInference(handler, { modelMetadata: models }),
  )
  .subscribe({
    next: (r) =>
      console.log(
        `${r.modelId?.split('/').pop()}: ${Array.from(r.inference.data as Float32Array, (v) => v.toFixed(3))}`,
      ),
    complete: () => rmSync(dir, { recursive: true, force: true }),
  });
