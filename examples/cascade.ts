// Cascade: model A's output feeds model B. A embeds 8 features into 4; B classifies the 4-vector into 2 classes.
// The hand-over is a preprocess function on B's handler, so each model still batches on its own.
//
//   npx tsx examples/cascade.ts
import { from, lastValueFrom, toArray } from 'rxjs';
import { runInference } from 'rxjs-inference';
import { OnnxModelHandler, type OnnxTensor } from 'rxjs-inference/handlers';
import type { PredictionResult } from 'rxjs-inference';
import { mlp } from '../scripts/fixtures/onnx';

async function main(): Promise<void> {
  const embedder = mlp([8, 16, 4], { seed: 11 });
  const classifier = mlp([4, 8, 2], { seed: 12 });
  const features = embedder.sample(6, 5).map(({ input }) => input.data as Float32Array);

  const embed = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: embedder.bytes });
  const classify = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: classifier.bytes }).withPreprocessFn(
    (r: PredictionResult<Float32Array, OnnxTensor>) => r.inference.data as Float32Array,
  );

  const results = await lastValueFrom(from(features).pipe(runInference(embed), runInference(classify), toArray()));
  results.forEach((r, i) => {
    const [p0, p1] = Array.from(r.inference.data as Float32Array);
    console.log(
      `element ${i}: embedding [${Array.from(r.example, (v) => v.toFixed(2)).join(', ')}] → class ${p1 > p0 ? 1 : 0}`,
    );
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
