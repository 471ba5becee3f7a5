// Classifies feature vectors with an ONNX model through runInference and prints the argmax class of each.
//
//   npx tsx examples/onnx-classification.ts
//
// The model is a small MLP classifier (8 features → 4 classes) that the repository builds itself
// (scripts/fixtures/onnx), written to a temporary file and loaded by path, as a real model would be.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { runInference } from 'rxjs-inference';
import { OnnxModelHandler, type OnnxTensor } from 'rxjs-inference/handlers';
import { mlp } from '../scripts/fixtures/onnx';

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

async function main(): Promise<void> {
  const fixture = mlp([8, 32, 4], { seed: 2024 }); // input `input` [batch, 8] → `output` [batch, 4] (logits)
  const dir = mkdtempSync(join(tmpdir(), 'onnx-classification-'));
  const modelPath = join(dir, 'classifier.onnx');
  writeFileSync(modelPath, fixture.bytes);
  try {
    // A single-input model with 1-D elements takes bare typed arrays; others take `{ data, dims }` or records.
    const features = fixture.sample(12, 7).map(({ input }) => input.data as Float32Array);
    const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: modelPath });
    const lines = await lastValueFrom(
      from(features).pipe(
        runInference(handler),
        map(({ inference }, i) => {
          const logits = inference.data as Float32Array;
          const scores = Array.from(logits, (v) => v.toFixed(3).padStart(6)).join(' ');
          return `example ${String(i).padStart(2)} → class ${argmax(logits)}   logits [${scores}]`;
        }),
        toArray(),
      ),
    );
    for (const line of lines) console.log(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
