// Beam's "Large Language Model Inference" pipeline in four steps, with a toy model, printing text as it streams:
//   1. read the prompts, 2. tokenize them (preprocessing), 3. generate with a loop given as the handler's
//   `inferenceFn` (Beam's `inference_fn = generate`), 4. decode the tokens (postprocessing).
//
//   npx tsx examples/text-generation.ts
//
// The model is a tiny next-token ONNX model (embedding → MatMul → logits) that "knows" three sentences, with a BPE
// tokenizer.json over its vocabulary; the repository builds both (scripts/fixtures/text), writes them to a temporary
// folder and loads them by path, as a real model folder would be. Nothing is downloaded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from } from 'rxjs';
import { loadTokenizer, streamInference, type PredictionResult } from 'rxjs-inference';
import { OnnxModelHandler, onnxGenerate, type OnnxTensor, type TensorLike } from 'rxjs-inference/onnx';
import { writeTinyLanguageModel } from '../scripts/fixtures/text';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'text-generation-'));
  try {
    const modelDir = writeTinyLanguageModel(join(dir, 'tiny-lm')); // model.onnx, tokenizer.json, tokenizer_config.json
    const tokenizer = await loadTokenizer(modelDir);
    const eos = tokenizer.tokenToId('<eos>')!;

    const handler = new OnnxModelHandler<TensorLike, OnnxTensor>({
      modelUri: join(modelDir, 'model.onnx'),
      // 3. Generate: greedy decoding, each prompt stops at <eos> or after 24 new tokens.
      inferenceFn: onnxGenerate({ maxNewTokens: 24, stopTokenIds: [eos] }),
    })
      // 2. Tokenize: text → token ids (one int64 tensor per prompt).
      .withPreprocessFn((prompt: string): TensorLike => {
        const { ids } = tokenizer.encode(prompt);
        return { data: BigInt64Array.from(ids, BigInt), dims: [ids.length] };
      })
      // 4. Decode: the generated ids → text.
      .withPostprocessFn(({ inference }: PredictionResult<TensorLike, OnnxTensor>) =>
        tokenizer.decode(Array.from(inference.data as BigInt64Array, Number), { skipSpecialTokens: true }),
      );

    // 1. Read the prompts.
    const prompts = ['once upon', 'hello', 'rxjs streams', 'unknown words'];
    const streamed = new Map<number, number[]>();
    let printed = '';
    // Events come in prompt order: each prompt's tokens as they are generated, then its end with the decoded text.
    await new Promise<void>((resolve, reject) =>
      from(prompts)
        .pipe(streamInference<typeof handler, number>(handler))
        .subscribe({
          next: (event) => {
            if (event.kind === 'partial') {
              if (!streamed.has(event.index)) {
                streamed.set(event.index, []);
                printed = '';
                process.stdout.write(`${prompts[event.index]} →`);
              }
              // Decode everything so far and print what is new (a token is not always a whole word).
              const ids = streamed.get(event.index)!;
              ids.push(event.value);
              const text = tokenizer.decode(ids, { skipSpecialTokens: true });
              const added = text.startsWith(printed) ? text.slice(printed.length).trim() : '';
              if (added !== '') process.stdout.write(` ${added}`);
              printed = text;
            } else {
              console.log(
                `\n  [${streamed.get(event.index)?.length ?? 0} tokens] ${prompts[event.index]} ${event.result}`,
              );
            }
          },
          error: reject,
          complete: resolve,
        }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
