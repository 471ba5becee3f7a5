import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer, ModelLoadError } from 'rxjs-inference';
import { bpeTokenizer, tinyLanguageModel, writeTinyLanguageModel } from '../../../scripts/fixtures/text';

describe('loadTokenizer (@huggingface/tokenizers, local tokenizer.json, nothing downloaded)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-inference-tokenizer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const modelDir = writeTinyLanguageModel(join(dir, 'tiny-lm'));

  it.each([
    'once upon a time there lived one little model',
    'Hello, World! Unknown words fall back to characters: xyzzy 42.',
    'rxjs streams tokens .',
  ])('round-trips %j', async (text) => {
    const tokenizer = await loadTokenizer(modelDir);
    const { ids, tokens } = tokenizer.encode(text);
    expect(ids.length).toBe(tokens.length);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(tokenizer.decode(ids)).toBe(text);
  });

  it('known words are one token each, with the ids of the vocabulary the model predicts over', async () => {
    const { tokenizer: files } = tinyLanguageModel();
    const tokenizer = await loadTokenizer(join(modelDir, 'tokenizer.json'));
    const { ids, tokens } = tokenizer.encode('hello world !');
    expect(tokens).toEqual(['▁hello', '▁world', '▁!']);
    expect(ids).toEqual([files.vocab['▁hello'], files.vocab['▁world'], files.vocab['▁!']]);
    expect(tokenizer.tokenToId('<eos>')).toBe(2);
    expect(tokenizer.tokenToId('▁world')).toBe(files.vocab['▁world']);
    expect(tokenizer.tokenToId('nope')).toBeUndefined();
  });

  it('decode skips special tokens on request', async () => {
    const tokenizer = await loadTokenizer({ tokenizerJson: bpeTokenizer(['hi']).tokenizer });
    const ids = [...tokenizer.encode('hi').ids, tokenizer.tokenToId('<eos>')!];
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe('hi');
    expect(tokenizer.decode(ids)).toContain('<eos>');
  });

  it('a missing file or invalid JSON is a ModelLoadError naming the path', async () => {
    await expect(loadTokenizer(join(dir, 'absent'))).rejects.toThrow(ModelLoadError);
    await expect(loadTokenizer(join(dir, 'absent'))).rejects.toThrow(/absent/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    await expect(loadTokenizer(bad)).rejects.toThrow(/bad\.json` is not valid JSON/);
  });

  it('rejects a source that is neither a path nor the JSON', async () => {
    await expect(loadTokenizer(42 as never)).rejects.toThrow(TypeError);
  });
});
