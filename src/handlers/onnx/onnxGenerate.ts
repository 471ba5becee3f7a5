import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { describeValue, InvalidExampleError } from '../../core/errors.js';
import { checkNumber, checkObject } from '../../core/validate.js';
import type { NamedOnnxInferenceFn, OnnxInferenceContext } from './OnnxInferenceFn.js';

/** Sampling instead of greedy decoding. */
export interface OnnxSamplingConfig {
  /** Seed of the sampler: the same seed and prompt give the same tokens, whatever the batch the prompt is in. */
  readonly seed: number;
  /** Logits are divided by it before the softmax. @default 1 */
  readonly temperature?: number;
  /** Sample among the `topK` most likely tokens only. @default every token */
  readonly topK?: number;
}

/** Configuration of `onnxGenerate`. */
export interface OnnxGenerateConfig {
  /** Most tokens generated per element, its stop token included. */
  readonly maxNewTokens: number;
  /** Token ids that end an element's generation (the stop token is part of its output). @default none */
  readonly stopTokenIds?: readonly number[];
  /** Fills an element's output after it has stopped. @default the first stop token, else 0 */
  readonly padTokenId?: number;
  /** The model input holding the token ids, `[batch, sequence]`, int64 or int32. @default the model's first input */
  readonly inputName?: string;
  /** The model output holding the logits, `[batch, sequence, vocab]` or `[batch, vocab]`. @default its first output */
  readonly logitsName?: string;
  /** Name of the output this function returns: the generated ids, int64 `[batch, maxNewTokens]`. @default 'tokens' */
  readonly outputName?: string;
  /** Sample (seeded) instead of taking the most likely token. @default greedy */
  readonly sampling?: OnnxSamplingConfig;
}

/**
 * A generation loop for a next-token ONNX model, to give as an ONNX handler's `inferenceFn` (Beam's
 * `inference_fn = generate`): runs the model on the batch's prompts, picks each element's next token from the logits
 * of its last position (greedy, or sampled with a seed), appends it, and repeats until every element has produced a
 * stop token or `maxNewTokens` tokens. Each element stops on its own: one that is done is padded while the others go
 * on, and the loop ends when all are done.
 *
 * - Every new token is emitted as a partial output of its element (`context.emitPartial(row, tokenId)`), stop tokens
 *   included: `streamInference` delivers them as they come.
 * - Returns one output, `tokens` (int64 `[batch, maxNewTokens]`: the generated ids, then `padTokenId`), which the
 *   handler splits per element.
 * - Checks `context.signal` before each step: unsubscribing or a timeout stops the generation.
 * - Feeds other than `inputName` are passed unchanged to every step (they must not depend on the sequence length).
 *
 * @example
 * ```ts
 * import { OnnxModelHandler, onnxGenerate } from 'rxjs-inference/handlers';
 *
 * const handler = new OnnxModelHandler({
 *   modelUri: 'tiny-lm/model.onnx',
 *   inferenceFn: onnxGenerate({ maxNewTokens: 20, stopTokenIds: [2] }),
 * });
 * ```
 */
export function onnxGenerate(config: OnnxGenerateConfig): NamedOnnxInferenceFn {
  checkObject('config', config);
  const { maxNewTokens, stopTokenIds = [], sampling, inputName, logitsName, outputName = 'tokens' } = config;
  checkNumber('maxNewTokens', maxNewTokens, { min: 1, integer: true });
  if (maxNewTokens === undefined)
    throw new TypeError(`Expected \`maxNewTokens\` to be a positive integer, got ${describeValue(maxNewTokens)}.`);
  if (!Array.isArray(stopTokenIds) || stopTokenIds.some((t) => !Number.isInteger(t) || t < 0)) {
    throw new TypeError(`Expected \`stopTokenIds\` to be an array of token ids, got ${describeValue(stopTokenIds)}.`);
  }
  const padTokenId = config.padTokenId ?? stopTokenIds[0] ?? 0;
  checkNumber('padTokenId', padTokenId, { min: 0, integer: true });
  checkObject('sampling', sampling);
  if (sampling !== undefined) {
    checkNumber('sampling.seed', sampling.seed, { integer: true });
    if (sampling.seed === undefined)
      throw new TypeError(`Expected \`sampling.seed\` to be an integer, got ${describeValue(sampling.seed)}.`);
    checkNumber('sampling.temperature', sampling.temperature, { min: 0, exclusiveMin: true });
    checkNumber('sampling.topK', sampling.topK, { min: 1, integer: true });
  }
  const stops = new Set(stopTokenIds);

  const generate = async (
    session: InferenceSession,
    feeds: Record<string, Tensor>,
    context: OnnxInferenceContext,
  ): Promise<Record<string, Tensor>> => {
    const { ort, runOptions, signal } = context;
    const idsName = inputName ?? session.inputNames[0];
    const logitsOutput = logitsName ?? session.outputNames[0];
    const prompt = feeds[idsName];
    if (prompt === undefined || prompt.dims.length !== 2 || (prompt.type !== 'int64' && prompt.type !== 'int32')) {
      throw new InvalidExampleError(
        `onnxGenerate expects the input \`${idsName}\` to hold token ids, int64 or int32 [batch, sequence]; ` +
          `got ${prompt === undefined ? 'no such input' : `${prompt.type} [${prompt.dims.join(', ')}]`}.`,
        undefined,
        idsName,
      );
    }
    const rows = prompt.dims[0];
    let length = prompt.dims[1];
    const wide = prompt.type === 'int64';
    const ids: number[][] = [];
    for (let b = 0; b < rows; b++) {
      ids.push(
        Array.from(
          (prompt.data as BigInt64Array | Int32Array).subarray(b * length, (b + 1) * length) as ArrayLike<
            number | bigint
          >,
          Number,
        ),
      );
    }
    const pickers = ids.map((row) => (sampling ? sampler(sampling, row) : argmax));
    const out = new BigInt64Array(rows * maxNewTokens).fill(BigInt(padTokenId));
    const done = new Uint8Array(rows);
    let remaining = rows;
    let current: Tensor = prompt;
    for (let step = 0; step < maxNewTokens && remaining > 0; step++) {
      signal.throwIfAborted();
      const results = runOptions
        ? await session.run({ ...feeds, [idsName]: current }, [logitsOutput], runOptions)
        : await session.run({ ...feeds, [idsName]: current }, [logitsOutput]);
      signal.throwIfAborted();
      const logits = results[logitsOutput];
      const vocab = logits.dims[logits.dims.length - 1];
      const positions = logits.dims.length === 3 ? logits.dims[1] : 1;
      const data = logits.data as Float32Array;
      for (let b = 0; b < rows; b++) {
        let token = padTokenId;
        if (!done[b]) {
          const last = (b * positions + positions - 1) * vocab;
          token = pickers[b](data.subarray(last, last + vocab));
          out[b * maxNewTokens + step] = BigInt(token);
          context.emitPartial(b, token);
          if (stops.has(token)) {
            done[b] = 1;
            remaining--;
          }
        }
        ids[b].push(token);
      }
      logits.dispose?.();
      if (remaining === 0 || step + 1 === maxNewTokens) break;
      length++;
      const next = wide ? new BigInt64Array(rows * length) : new Int32Array(rows * length);
      ids.forEach((row, b) => row.forEach((t, i) => (next[b * length + i] = (wide ? BigInt(t) : t) as never)));
      current = new ort.Tensor(prompt.type, next, [rows, length]);
    }
    return { [outputName]: new ort.Tensor('int64', out, [rows, maxNewTokens]) };
  };
  return Object.assign(generate, { outputNames: [outputName] as const });
}

/** Index of the largest logit (the first one on ties). */
function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * A seeded sampler for one element: softmax of `logits / temperature` over the `topK` most likely tokens. Its PRNG is
 * seeded by the seed and the element's prompt, so an element's tokens do not depend on the batch it ran in.
 */
function sampler(
  { seed, temperature = 1, topK }: OnnxSamplingConfig,
  prompt: readonly number[],
): (logits: ArrayLike<number>) => number {
  let hash = 2166136261 ^ seed;
  for (const id of prompt) hash = Math.imul(hash ^ id, 16777619);
  const random = mulberry32(hash);
  return (logits) => {
    let order = Array.from({ length: logits.length }, (_, i) => i);
    if (topK !== undefined && topK < logits.length) order = order.sort((a, b) => logits[b] - logits[a]).slice(0, topK);
    let max = -Infinity;
    for (const i of order) max = Math.max(max, logits[i] / temperature);
    const weights = order.map((i) => Math.exp(logits[i] / temperature - max));
    let r = random() * weights.reduce((a, w) => a + w, 0);
    for (let k = 0; k < order.length; k++) {
      r -= weights[k];
      if (r < 0) return order[k];
    }
    return order[order.length - 1];
  };
}

/** mulberry32: a small, well-distributed seeded PRNG in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
