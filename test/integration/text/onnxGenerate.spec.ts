import type { Tensor } from 'onnxruntime-node';
import { from, lastValueFrom, toArray } from 'rxjs';
import { OnnxModelHandler, onnxGenerate, PartialOutput, type OnnxInferenceFn } from 'rxjs-inference';
import { nextToken } from '../../../scripts/fixtures/onnx/nextToken';
import { tinyLanguageModel } from '../../../scripts/fixtures/text';
import { context, expectTensorClose } from '../onnx/onnxTestUtils';

const ids = (...values: number[]) => ({ data: BigInt64Array.from(values.map(BigInt)), dims: [values.length] });
const tokensOf = (inference: unknown) => Array.from((inference as Tensor).data as BigInt64Array, Number);

/** Plain-JS greedy generation on the fixture's reference logits. */
function referenceGreedy(logitsOf: (t: number) => Float64Array, prompt: number[], max: number, stops: number[]) {
  const out: number[] = [];
  let last = prompt[prompt.length - 1];
  while (out.length < max) {
    const logits = logitsOf(last);
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    out.push(best);
    last = best;
    if (stops.includes(best)) break;
  }
  return out;
}

describe('nextToken fixture: the ONNX model equals the plain-JS reference', () => {
  it('logits [batch, sequence, vocab] of random prompts', async () => {
    const fixture = nextToken();
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    try {
      const elements = fixture.sample(5, 3);
      const results = await handler.runInference(
        elements.map((e) => e.input_ids),
        model,
        context(),
      );
      results.forEach((r, i) => expectTensorClose(r.inference as Tensor, fixture.forward(elements[i]).logits, 1e-5));
    } finally {
      await handler.releaseModel(model);
    }
  });
});

describe('onnxGenerate as inferenceFn (Beam inference_fn = generate)', () => {
  it('greedy: every element equals the plain-JS generation loop; tokens [maxNewTokens] padded', async () => {
    const fixture = nextToken({ vocab: 16, dim: 8, seed: 5 });
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes, inferenceFn: onnxGenerate({ maxNewTokens: 6 }) });
    const prompts = [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
      [15, 0, 11],
    ];
    const model = await handler.loadModel();
    try {
      const results = await handler.runInference(
        prompts.map((p) => ids(...p)),
        model,
        context(),
      );
      expect(model.outputNames).toEqual(['tokens']);
      results.forEach((r, i) => {
        expect((r.inference as Tensor).dims).toEqual([6]);
        expect(tokensOf(r.inference)).toEqual(referenceGreedy(fixture.logitsOf, prompts[i], 6, []));
      });
    } finally {
      await handler.releaseModel(model);
    }
  });

  it('each element stops on its own stop token; the rest of its output is padding', async () => {
    const lm = tinyLanguageModel();
    const { vocab } = lm.tokenizer;
    const handler = new OnnxModelHandler({
      modelUri: lm.model.bytes,
      inferenceFn: onnxGenerate({ maxNewTokens: 20, stopTokenIds: [lm.eosTokenId] }),
    });
    const prompt = (text: string) => ids(...text.split(' ').map((w) => vocab[`▁${w}`]));
    const word = (text: string) => text.split(' ').map((w) => vocab[`▁${w}`]);
    const model = await handler.loadModel();
    const examples = [prompt('once upon'), prompt('hello world'), prompt('rxjs streams')];
    const results = await handler.runInference(examples, model, context()).finally(() => handler.releaseModel(model));
    const eos = lm.eosTokenId;
    const story = [...word('a time there lived one little model that streamed every word as it arrived .'), eos];
    expect(tokensOf(results[0].inference)).toEqual([...story, ...Array(20 - story.length).fill(eos)]);
    expect(tokensOf(results[1].inference)).toEqual([word('!')[0], eos, ...Array(18).fill(eos)]);
    expect(tokensOf(results[2].inference)).toEqual([...word('tokens .'), eos, ...Array(17).fill(eos)]);
  });

  it('stops at maxNewTokens when no stop token comes', async () => {
    const lm = tinyLanguageModel();
    const handler = new OnnxModelHandler({
      modelUri: lm.model.bytes,
      inferenceFn: onnxGenerate({ maxNewTokens: 3, stopTokenIds: [lm.eosTokenId] }),
    });
    const model = await handler.loadModel();
    const [result] = await handler.runInference([ids(lm.tokenizer.vocab['▁once'])], model, context());
    await handler.releaseModel(model);
    const v = lm.tokenizer.vocab;
    expect(tokensOf(result.inference)).toEqual([v['▁upon'], v['▁a'], v['▁time']]);
  });

  describe('sampling', () => {
    const fixture = nextToken({ vocab: 16, dim: 8, seed: 9 });
    const prompts = [ids(1, 2), ids(3, 4), ids(5, 6)];
    const run = async (inferenceFn: OnnxInferenceFn, batch: ReturnType<typeof ids>[]) => {
      const handler = new OnnxModelHandler({ modelUri: fixture.bytes, inferenceFn });
      const model = await handler.loadModel();
      try {
        return (await handler.runInference(batch, model, context())).map((r) => tokensOf(r.inference));
      } finally {
        await handler.releaseModel(model);
      }
    };

    it('the same seed gives the same tokens, whatever batch the prompt runs in', async () => {
      const generate = onnxGenerate({ maxNewTokens: 12, sampling: { seed: 7, temperature: 1.5 } });
      const together = await run(generate, prompts);
      const alone = await run(generate, [prompts[2]]);
      expect(alone[0]).toEqual(together[2]);
      expect(await run(generate, prompts)).toEqual(together);
    });

    it('another seed gives other tokens; topK: 1 is greedy', async () => {
      const a = await run(onnxGenerate({ maxNewTokens: 12, sampling: { seed: 1, temperature: 2 } }), prompts);
      const b = await run(onnxGenerate({ maxNewTokens: 12, sampling: { seed: 2, temperature: 2 } }), prompts);
      expect(a).not.toEqual(b);
      const top1 = await run(onnxGenerate({ maxNewTokens: 5, sampling: { seed: 3, topK: 1 } }), prompts);
      expect(top1).toEqual([
        referenceGreedy(fixture.logitsOf, [1, 2], 5, []),
        referenceGreedy(fixture.logitsOf, [3, 4], 5, []),
        referenceGreedy(fixture.logitsOf, [5, 6], 5, []),
      ]);
    });
  });

  it('the result is also an Observable of the partial outputs (token by token), then the results', async () => {
    const lm = tinyLanguageModel();
    const v = lm.tokenizer.vocab;
    const handler = new OnnxModelHandler({
      modelUri: lm.model.bytes,
      inferenceFn: onnxGenerate({ maxNewTokens: 5, stopTokenIds: [lm.eosTokenId] }),
    });
    const model = await handler.loadModel();
    const events = await lastValueFrom(
      from(handler.runInference([ids(v['▁hello']), ids(v['▁rxjs'])], model, context())).pipe(toArray()),
    );
    await handler.releaseModel(model);
    const partials = events.filter((e) => e instanceof PartialOutput).map((p) => [p.index, p.value]);
    expect(partials).toEqual([
      [0, v['▁world']],
      [1, v['▁streams']],
      [0, v['▁!']],
      [1, v['▁tokens']],
      [0, lm.eosTokenId],
      [1, v['▁.']],
      [1, lm.eosTokenId],
    ]);
    expect(Array.isArray(events[events.length - 1])).toBe(true);
  });

  it('an aborted signal stops the generation loop between steps', async () => {
    const fixture = nextToken();
    let runs = 0;
    const generate = onnxGenerate({ maxNewTokens: 50 });
    const counting: OnnxInferenceFn = (session, feeds, ctx) => {
      const counted = new Proxy(session, {
        get: (target, key) =>
          key === 'run'
            ? (...args: Parameters<typeof session.run>) => (runs++, target.run(...args))
            : Reflect.get(target, key),
      });
      return generate(counted, feeds, ctx);
    };
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes, inferenceFn: counting });
    const model = await handler.loadModel();
    const controller = new AbortController();
    let partials = 0;
    const result = handler.runInference([ids(1, 2)], model, context('m', controller.signal));
    const sub = from(result).subscribe({
      next: (e) => {
        if (e instanceof PartialOutput && ++partials === 3) controller.abort(new Error('stop'));
      },
      error: () => undefined,
    });
    const error = await result.catch((e: unknown) => e);
    sub.unsubscribe();
    await handler.releaseModel(model);
    expect(error).toBeInstanceOf(Error);
    expect(partials).toBe(3);
    expect(runs).toBe(3);
  });

  describe('config validation', () => {
    it.each([
      [{ maxNewTokens: 0 }, RangeError, /maxNewTokens/],
      [{}, TypeError, /^Expected `maxNewTokens` to be a positive integer, got `undefined` \(undefined\)\.$/],
      [{ maxNewTokens: 2, stopTokenIds: [-1] }, TypeError, /stopTokenIds/],
      [
        { maxNewTokens: 2, sampling: { temperature: 1 } },
        TypeError,
        /^Expected `sampling.seed` to be an integer, got `undefined` \(undefined\)\.$/,
      ],
      [{ maxNewTokens: 2, sampling: { seed: 1, temperature: 0 } }, RangeError, /temperature/],
      [{ maxNewTokens: 2, sampling: { seed: 1, topK: 0 } }, RangeError, /topK/],
    ])('%j', (config, type, message) => {
      expect(() => onnxGenerate(config as never)).toThrow(type);
      expect(() => onnxGenerate(config as never)).toThrow(message);
    });

    it('inferenceFn must be a function', () => {
      expect(() => new OnnxModelHandler({ modelUri: 'x.onnx', inferenceFn: 3 as never })).toThrow(/inferenceFn/);
    });
  });
});
