import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describeValue, MissingRuntimeError, ModelLoadError } from '../core/errors.js';

/** What a tokenizer gives: text → token ids, and back. */
export interface TextTokenizer {
  /** Token ids (and their strings) of `text`. */
  encode(text: string): { readonly ids: readonly number[]; readonly tokens: readonly string[] };
  /** The text of `ids`; `skipSpecialTokens` leaves out `<eos>`, `<pad>`… @default false */
  decode(ids: readonly number[], options?: { readonly skipSpecialTokens?: boolean }): string;
  /** Id of a token (e.g. `'<eos>'`), or `undefined` when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined;
}

/** Where a tokenizer comes from: a folder or `tokenizer.json` path, or the parsed JSON itself. */
export type TokenizerSource = string | { readonly tokenizerJson: object; readonly tokenizerConfig?: object };

interface HfTokenizer {
  encode(text: string): { ids: number[]; tokens: string[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  model?: { tokens_to_ids?: Map<string, number> };
}
type HfTokenizersModule = { Tokenizer: new (json: object, config: object) => HfTokenizer };

let tokenizersModule: Promise<HfTokenizersModule> | undefined;

/** Imports `@huggingface/tokenizers` on first use (an optional peer dependency). */
function loadTokenizersPackage(): Promise<HfTokenizersModule> {
  tokenizersModule ??= import('@huggingface/tokenizers').then(
    (m) => m as unknown as HfTokenizersModule,
    (error: unknown) => {
      tokenizersModule = undefined;
      throw new MissingRuntimeError('@huggingface/tokenizers', { cause: error });
    },
  );
  return tokenizersModule;
}

/**
 * Loads a Hugging Face tokenizer from local files with `@huggingface/tokenizers` (Tokenizers.js: pure JavaScript,
 * the tokenizer classes of transformers.js): `source` is a model folder holding `tokenizer.json` (and optionally
 * `tokenizer_config.json`), a path to a `tokenizer.json` (its folder's `tokenizer_config.json` is read when there), or
 * the parsed JSON. Nothing is downloaded: there is no hub lookup at all.
 *
 * `@huggingface/tokenizers` is an optional peer dependency, imported on the first call; a missing install gives a
 * `MissingRuntimeError`. A missing or unreadable file gives a `ModelLoadError` naming the path.
 *
 * @example
 * ```ts
 * import { loadTokenizer } from 'rxjs-inference';
 *
 * const tokenizer = await loadTokenizer('models/tiny-lm'); // reads models/tiny-lm/tokenizer.json
 * const { ids } = tokenizer.encode('hello world');
 * tokenizer.decode(ids); // 'hello world'
 * ```
 */
export async function loadTokenizer(source: TokenizerSource): Promise<TextTokenizer> {
  let json: object;
  let config: object = {};
  if (typeof source === 'string') {
    const isDir = await stat(source).then(
      (s) => s.isDirectory(),
      () => false,
    );
    const file = isDir ? join(source, 'tokenizer.json') : source;
    json = await readJson(file, true);
    config = (await readJson(join(dirname(file), 'tokenizer_config.json'), false)) ?? {};
  } else if (source !== null && typeof source === 'object' && typeof source.tokenizerJson === 'object') {
    json = source.tokenizerJson;
    config = source.tokenizerConfig ?? {};
  } else {
    throw new TypeError(
      `Expected \`source\` to be a path or { tokenizerJson, tokenizerConfig? }, got ${describeValue(source)}.`,
    );
  }
  const { Tokenizer } = await loadTokenizersPackage();
  let tokenizer: HfTokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (error) {
    throw new ModelLoadError(
      `Cannot build the tokenizer${typeof source === 'string' ? ` \`${source}\`` : ''}: ${(error as Error).message}`,
      typeof source === 'string' ? source : '',
      { cause: error },
    );
  }
  const vocab = (json as { model?: { vocab?: Record<string, number> } }).model?.vocab;
  const added = (json as { added_tokens?: { id: number; content: string }[] }).added_tokens ?? [];
  return {
    encode: (text) => {
      const { ids, tokens } = tokenizer.encode(text);
      return { ids, tokens };
    },
    decode: (ids, options) => tokenizer.decode([...ids], { skip_special_tokens: options?.skipSpecialTokens ?? false }),
    tokenToId: (token) =>
      added.find((t) => t.content === token)?.id ??
      (vocab && Object.prototype.hasOwnProperty.call(vocab, token) ? vocab[token] : undefined),
  };
}

async function readJson(path: string, required: true): Promise<object>;
async function readJson(path: string, required: false): Promise<object | undefined>;
async function readJson(path: string, required: boolean): Promise<object | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelLoadError(`Cannot read tokenizer file \`${path}\`: ${(error as Error).message}`, path, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as object;
  } catch (error) {
    throw new ModelLoadError(`Tokenizer file \`${path}\` is not valid JSON: ${(error as Error).message}`, path, {
      cause: error,
    });
  }
}
