import { isLeft, isRight, type Either } from 'fp-ts/lib/Either';
import type { Tensor } from 'onnxruntime-node';
import { from, lastValueFrom, toArray } from 'rxjs';
import type { FailedRecord, PredictionResult, OnnxExample, OnnxInference } from '../../../src/index';
import { OnnxModelHandler, runInference, withExceptionHandling } from '../../../src/index';
import { mlp, twoInputsTwoOutputs, type ElementInputs } from '../../../scripts/fixtures/onnx';
import { expectTensorClose } from './onnxTestUtils';

type Out = Either<FailedRecord<unknown>, PredictionResult<OnnxExample, OnnxInference>>;

describe('withExceptionHandling(runInference(OnnxModelHandler)): bad elements go to the dead letters', () => {
  const fixture = mlp([8, 16, 4]);

  it('wrong dims, wrong dtype, a missing input, NaN (rejected by default) and a non-tensor: one Left each, the rest Right', async () => {
    const good = fixture.sample(20, 12);
    const bad: Record<number, { example: unknown; message: RegExp }> = {
      3: { example: { input: { data: new Float32Array(7), dims: [7] } }, message: /expected dims \[8\].*got \[7\]/ },
      7: {
        example: { input: { data: new Float64Array(8), dims: [8] } },
        message: /expected dtype float32, got float64/,
      },
      11: { example: { inptu: good[0].input }, message: /has an input `inptu` that the model does not have/ },
      12: {
        example: { input: { data: Float32Array.from({ length: 8 }, () => NaN), dims: [8] } },
        message: /got `NaN` at index 0/,
      },
      16: { example: 'not a tensor', message: /is not an ONNX example/ },
    };
    const elements: unknown[] = [];
    for (let i = 0, g = 0; elements.length < good.length + Object.keys(bad).length; i++) {
      elements.push(i in bad ? bad[i].example : good[g++]);
    }
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
    const out: Out[] = await lastValueFrom(
      from(elements as OnnxExample[]).pipe(
        withExceptionHandling(runInference(handler, { batch: { minBatchSize: 7, maxBatchSize: 7 } })),
        toArray(),
      ),
    );
    expect(out).toHaveLength(elements.length);
    out.forEach((either, i) => {
      if (i in bad) {
        expect(isLeft(either)).toBe(true);
        const failure = (either as { left: FailedRecord<unknown> }).left;
        expect(failure).toMatchObject({ stage: 'inference', element: elements[i] });
        expect(failure.error).toMatchObject({
          name: 'InvalidExampleError',
          message: expect.stringMatching(bad[i].message),
        });
      } else {
        expect(isRight(either)).toBe(true);
        const result = (either as { right: PredictionResult<OnnxExample, OnnxInference> }).right;
        expect(result.example).toBe(elements[i]);
        expectTensorClose(result.inference as Tensor, fixture.forward(elements[i] as ElementInputs).output);
      }
    });
  });

  it('a bad element in a multi-input stream does not cost its batch-mates their results', async () => {
    const two = twoInputsTwoOutputs();
    const elements: OnnxExample[] = two.sample(6, 3);
    elements.splice(2, 0, { a: { data: new Float32Array(4), dims: [4] } }); // missing `b`
    const handler = new OnnxModelHandler({ modelUri: two.bytes });
    const out = await lastValueFrom(from(elements).pipe(withExceptionHandling(runInference(handler)), toArray()));
    expect(out.map((e) => (isLeft(e) ? 'L' : 'R')).join('')).toBe('RRLRRRR');
    expect((out[2] as { left: FailedRecord<unknown> }).left.error.message).toMatch(/missing input `b`/);
  });
});
