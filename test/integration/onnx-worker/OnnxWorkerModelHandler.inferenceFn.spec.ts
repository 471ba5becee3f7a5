import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { from, lastValueFrom, take, toArray } from 'rxjs';
import {
  ModelLoadError,
  OnnxModelHandler,
  OnnxWorkerModelHandler,
  onnxGenerate,
  runInference,
  streamInference,
  type InferenceEvent,
  type OnnxTensor,
  type PredictionResult,
  type TensorLike,
} from 'rxjs-inference';
import { nextToken } from '../../../scripts/fixtures/onnx';
import { tinyLanguageModel } from '../../../scripts/fixtures/text';
import { tempModels } from '../onnx/onnxTestUtils';

// The workers load the inferenceFn from a module; the library's own build (dist/, built before the suite) gives them
// onnxGenerate, and the tests write small CommonJS / ES modules of their own.
const dist = join(__dirname, '..', '..', '..', 'dist', 'cjs', 'index.js');
const lm = tinyLanguageModel();
const next = nextToken();
const files = tempModels({ 'lm.onnx': lm.model.bytes, 'next.onnx': next.bytes });
afterAll(() => files.cleanup());

// Doubles the model's logits and posts one partial output per row: the row's first logit.
writeFileSync(
  files.path('double.cjs'),
  `exports.double = async (session, feeds, context) => {
    const out = await session.run(feeds, context.outputNames, context.runOptions);
    const logits = out.logits;
    const data = Float32Array.from(logits.data, (v) => v * 2);
    const per = data.length / logits.dims[0];
    for (let row = 0; row < logits.dims[0]; row++) context.emitPartial(row, data[row * per]);
    return { logits: new context.ort.Tensor('float32', data, logits.dims) };
  };
  exports.notAFunction = 42;`,
);
// An ES module whose default export never stops on its own: only the abort signal ends it.
writeFileSync(
  files.path('endless.mjs'),
  `export default async function endless(session, feeds, context) {
    for (let step = 0; ; step++) {
      context.signal.throwIfAborted();
      await session.run(feeds);
      context.emitPartial(0, step);
    }
  }`,
);

const ids = (...values: number[]): TensorLike => ({
  data: BigInt64Array.from(values.map(BigInt)),
  dims: [values.length],
});
const tokensOf = (r: PredictionResult<TensorLike, unknown>) =>
  Array.from((r.inference as OnnxTensor).data as BigInt64Array, Number);

describe('OnnxWorkerModelHandler inferenceFn (loaded and run in the workers)', () => {
  it('onnxGenerate from a module with options: the same tokens as inline, streamed token by token', async () => {
    const options = { maxNewTokens: 20, stopTokenIds: [lm.eosTokenId] };
    const worker = new OnnxWorkerModelHandler<TensorLike, OnnxTensor>({
      modelUri: files.path('lm.onnx'),
      workers: 1,
      inferenceFn: { module: dist, exportName: 'onnxGenerate', options },
    });
    const inline = new OnnxModelHandler<TensorLike, OnnxTensor>({
      modelUri: files.path('lm.onnx'),
      inferenceFn: onnxGenerate(options),
    });
    const v = lm.tokenizer.vocab;
    const prompts = () => [ids(v['▁once'], v['▁upon']), ids(v['▁hello'], v['▁world'])];
    const expected = await lastValueFrom(from(prompts()).pipe(runInference(inline, { metrics: false }), toArray()));
    const events = await lastValueFrom(
      from(prompts()).pipe(streamInference<typeof worker, number>(worker, { metrics: false }), toArray()),
    );
    const ends = events.filter((e) => e.kind === 'end') as Extract<InferenceEvent<number, unknown>, { kind: 'end' }>[];
    expect(ends.map((e) => tokensOf(e.result as PredictionResult<TensorLike, unknown>))).toEqual(
      expected.map(tokensOf),
    );
    const partials0 = events
      .filter((e) => e.kind === 'partial' && e.index === 0)
      .map((e) => (e as { value: number }).value);
    expect(partials0).toEqual(tokensOf(expected[0]).slice(0, partials0.length));
    expect(partials0[partials0.length - 1]).toBe(lm.eosTokenId);
  });

  it('a CommonJS module export: its outputs are split, its partial outputs delivered per element', async () => {
    const worker = new OnnxWorkerModelHandler<TensorLike, OnnxTensor>({
      modelUri: files.path('next.onnx'),
      workers: 1,
      inferenceFn: { module: files.path('double.cjs'), exportName: 'double' },
    });
    const elements = next.sample(3, 4).map((e) => e.input_ids as unknown as TensorLike);
    const expected = next.sample(3, 4).map((e) => next.forward(e).logits.data as Float32Array);
    const events = await lastValueFrom(from(elements).pipe(streamInference(worker, { metrics: false }), toArray()));
    const ends = events.filter((e) => e.kind === 'end');
    expect(ends).toHaveLength(3);
    ends.forEach((e, i) => {
      const data = (e as { result: PredictionResult<TensorLike, OnnxTensor> }).result.inference.data as Float32Array;
      data.forEach((x, k) => expect(x).toBeCloseTo(2 * expected[i][k], 4));
    });
    const partials = events.filter((e) => e.kind === 'partial') as { index: number; value: number }[];
    expect(partials.map((p) => p.index)).toEqual([0, 1, 2]);
    partials.forEach((p) => expect(p.value).toBeCloseTo(2 * expected[p.index][0], 4));
  });

  it('unsubscribing (or the signal) aborts the function in the worker: an endless loop stops', async () => {
    const worker = new OnnxWorkerModelHandler<TensorLike, OnnxTensor>({
      modelUri: files.path('next.onnx'),
      workers: 1,
      inferenceFn: { module: files.path('endless.mjs') },
    });
    const model = await worker.loadModel();
    try {
      const first = await lastValueFrom(
        from([ids(1, 2)]).pipe(
          streamInference(
            worker.withPreprocessFn((x: TensorLike) => x),
            { metrics: false },
          ),
          take(3),
          toArray(),
        ),
      );
      expect(first.map((e) => (e as { value: number }).value)).toEqual([0, 1, 2]);
      // Directly: an abort after two partial outputs stops the loop in the worker. If it did not, the worker would stay
      // busy forever and releaseModel (which waits for the batches in flight) would never return.
      const controller = new AbortController();
      const result = worker.runInference([ids(3, 4)], model, {
        inferenceArgs: undefined,
        modelId: '',
        signal: controller.signal,
        scheduler: undefined as never,
      });
      let seen = 0;
      const sub = from(result).subscribe({
        next: () => {
          if (++seen === 2) controller.abort(new Error('enough'));
        },
        error: () => undefined,
      });
      await expect(result).rejects.toThrow();
      sub.unsubscribe();
      expect(seen).toBe(2);
    } finally {
      await worker.releaseModel(model);
    }
  });

  it('a module that cannot be found, or an export that is not a function, fails the load with a ModelLoadError', async () => {
    const missing = new OnnxWorkerModelHandler({
      modelUri: files.path('next.onnx'),
      workers: 1,
      inferenceFn: { module: 'no-such-inference-module' },
    });
    await expect(missing.loadModel()).rejects.toThrow(ModelLoadError);
    await expect(missing.loadModel()).rejects.toThrow(/no-such-inference-module/);
    const notFn = new OnnxWorkerModelHandler({
      modelUri: files.path('next.onnx'),
      workers: 1,
      inferenceFn: { module: files.path('double.cjs'), exportName: 'notAFunction' },
    });
    await expect(notFn.loadModel()).rejects.toThrow(/inferenceFn .*notAFunction` is not a function/);
  });

  it('rejects an inferenceFn without a module at construction', () => {
    expect(() => new OnnxWorkerModelHandler({ modelUri: 'm.onnx', inferenceFn: {} as never })).toThrow(
      /inferenceFn.module/,
    );
    expect(
      () => new OnnxWorkerModelHandler({ modelUri: 'm.onnx', inferenceFn: { module: 'x', exportName: 3 } as never }),
    ).toThrow(/exportName/);
  });
});
