// Dead letters: failures become values instead of killing the stream. Good elements get results; bad ones (wrong
// length, not numbers) go to a dead-letter stream with the step that failed and why.
//
//   npx tsx examples/dead-letters.ts
import { from } from 'rxjs';
import { partitionFailures, runInference, withExceptionHandling } from 'rxjs-inference';
import { OnnxModelHandler, type OnnxTensor } from 'rxjs-inference/handlers';
import { mlp } from '../scripts/fixtures/onnx';

const fixture = mlp([4, 8, 2], { seed: 7 });

const handler = new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: fixture.bytes }).withPreprocessFn(
  (line: string) => {
    const values = JSON.parse(line) as unknown;
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'number')) {
      throw new TypeError(`expected an array of numbers, got ${line}`);
    }
    return Float32Array.from(values as number[]);
  },
);

const lines = ['[0.1, 0.2, 0.3, 0.4]', '[1, 2, "x", 4]', '[0.5, 0.5, 0.5, 0.5]', '[1, 2, 3]', 'not json'];

const [results$, failures$] = partitionFailures(from(lines).pipe(withExceptionHandling(runInference(handler))));

failures$.subscribe((f) =>
  console.log(`dead letter (${f.stage}[${f.index}]): ${JSON.stringify(f.element)} — ${f.error.message}`),
);
results$.subscribe((r) =>
  console.log(`result: [${Array.from(r.inference.data as Float32Array, (v) => v.toFixed(3)).join(', ')}]`),
);
