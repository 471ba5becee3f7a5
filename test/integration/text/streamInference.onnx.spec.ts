import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, take, toArray } from 'rxjs';
import { isLeft } from 'fp-ts/lib/Either.js';
import {
  loadTokenizer,
  OnnxModelHandler,
  onnxGenerate,
  streamInference,
  withExceptionHandling,
  type OnnxInferenceFn,
  type OnnxTensor,
  type PredictionResult,
  type TensorLike,
  type TextTokenizer,
} from 'rxjs-inference';
import { writeTinyLanguageModel } from '../../../scripts/fixtures/text';

describe('streamInference on a real ONNX model (toy LM, onnxGenerate, tokenizer in pre/postprocessing)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-inference-stream-'));
  const modelDir = writeTinyLanguageModel(join(dir, 'tiny-lm'));
  let tokenizer: TextTokenizer;
  let eos: number;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(modelDir);
    eos = tokenizer.tokenToId('<eos>')!;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const encode = (text: string): TensorLike => ({
    data: BigInt64Array.from(tokenizer.encode(text).ids, BigInt),
    dims: [tokenizer.encode(text).ids.length],
  });
  const decode = (result: PredictionResult<TensorLike, OnnxTensor>) =>
    tokenizer.decode(Array.from(result.inference.data as BigInt64Array, Number), { skipSpecialTokens: true });

  function handler(inferenceFn: OnnxInferenceFn = onnxGenerate({ maxNewTokens: 24, stopTokenIds: [eos] })) {
    return new OnnxModelHandler<TensorLike, OnnxTensor>({ modelUri: join(modelDir, 'model.onnx'), inferenceFn })
      .withPreprocessFn(encode)
      .withPostprocessFn(decode);
  }

  it('streams each prompt token by token, in input order, then its decoded text', async () => {
    const prompts = ['once upon', 'hello world', 'rxjs streams'];
    const events = await lastValueFrom(
      from(prompts).pipe(streamInference<ReturnType<typeof handler>, number>(handler(), { metrics: false }), toArray()),
    );
    const indices = events.map((e) => e.index);
    expect(indices).toEqual([...indices].sort((a, b) => a - b)); // ordered: no interleaving
    const streamed = prompts.map((_, i) =>
      events.filter((e) => e.index === i && e.kind === 'partial').map((e) => (e.kind === 'partial' ? e.value : -1)),
    );
    const ends = events.filter((e) => e.kind === 'end').map((e) => (e.kind === 'end' ? e.result : ''));
    expect(ends).toEqual([
      'a time there lived one little model that streamed every word as it arrived .',
      '!',
      'tokens .',
    ]);
    // What streamed is exactly the generated tokens, the stop token last.
    streamed.forEach((tokens, i) => {
      expect(tokens[tokens.length - 1]).toBe(eos);
      expect(tokenizer.decode(tokens, { skipSpecialTokens: true })).toBe(ends[i]);
    });
  });

  it('unsubscribing stops the generation loop: no model run after the subscriber left', async () => {
    let runs = 0;
    const generate = onnxGenerate({ maxNewTokens: 24, stopTokenIds: [eos] });
    const counting: OnnxInferenceFn = (session, feeds, context) =>
      generate(
        new Proxy(session, {
          get: (target, key) =>
            key === 'run'
              ? (...args: Parameters<typeof session.run>) => (runs++, target.run(...args))
              : Reflect.get(target, key),
        }),
        feeds,
        context,
      );
    const first = await lastValueFrom(
      from(['once upon']).pipe(streamInference(handler(counting), { metrics: false }), take(3), toArray()),
    );
    expect(first.map((e) => e.kind)).toEqual(['partial', 'partial', 'partial']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Three tokens, maybe one more step already running when the abort came; never the 15 steps of the sentence.
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(runs).toBeLessThanOrEqual(4);
  });

  it('under withExceptionHandling a failing prompt is a Left, the others stream and end', async () => {
    const onnx = new OnnxModelHandler<TensorLike, OnnxTensor>({
      modelUri: join(modelDir, 'model.onnx'),
      inferenceFn: onnxGenerate({ maxNewTokens: 24, stopTokenIds: [eos] }),
    });
    // Token id 100000 is outside the embedding: onnxruntime's Gather fails on that batch (its own shape: length 3).
    const bad: TensorLike = { data: BigInt64Array.of(1n, 2n, 100000n), dims: [3] };
    const out = await lastValueFrom(
      from([encode('hello'), bad, encode('rxjs')]).pipe(
        withExceptionHandling(streamInference(onnx, { metrics: false })),
        toArray(),
      ),
    );
    const lefts = out.filter(isLeft);
    expect(lefts).toHaveLength(1);
    expect(lefts[0].left.element).toBe(bad);
    expect(lefts[0].left.stage).toBe('inference');
    const ends = out.filter((e) => !isLeft(e) && e.right.kind === 'end');
    expect(ends).toHaveLength(2);
  });
});
