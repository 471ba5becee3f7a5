// A/B: two models score the same shared source side by side; results are paired per element.
//
//   npx tsx examples/ab-test.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, share, toArray, zip } from 'rxjs';
import { runInference } from 'rxjs-inference';
import { OnnxModelHandler, type OnnxTensor } from 'rxjs-inference/handlers';
import { mlp } from '../scripts/fixtures/onnx';

const argmax = (v: ArrayLike<number>): number => Array.prototype.indexOf.call(v, Math.max(...Array.from(v)));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ab-test-'));
  try {
    const a = mlp([8, 16, 3], { seed: 1 });
    const b = mlp([8, 32, 3], { seed: 2 });
    writeFileSync(join(dir, 'a.onnx'), a.bytes);
    writeFileSync(join(dir, 'b.onnx'), b.bytes);
    const features = a.sample(10, 3).map(({ input }) => input.data as Float32Array);

    // `share()` so both arms read one pass over the source.
    const source = from(features).pipe(share());
    const armA = source.pipe(
      runInference(new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: join(dir, 'a.onnx') })),
    );
    const armB = source.pipe(
      runInference(new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: join(dir, 'b.onnx') })),
    );

    const pairs = await lastValueFrom(zip(armA, armB).pipe(toArray()));
    let agree = 0;
    for (const [ra, rb] of pairs) {
      const ca = argmax(ra.inference.data as Float32Array);
      const cb = argmax(rb.inference.data as Float32Array);
      if (ca === cb) agree++;
      console.log(`A: class ${ca}  B: class ${cb}${ca === cb ? '' : '   <- disagree'}`);
    }
    console.log(`agreement: ${agree}/${pairs.length}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
