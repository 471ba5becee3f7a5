import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import {
  ModelLoadError,
  runInference,
  TransformersPipelineHandler,
  withExceptionHandling,
  type TransformersLabel,
} from 'rxjs-inference';
import { writeTinyTransformersModels } from '../../../scripts/fixtures/text';

// transformers.js (@huggingface/transformers) pipelines on tiny local models the repository writes; remote loading off.
describe('TransformersPipelineHandler (transformers.js pipelines, local files only)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-inference-transformers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const models = writeTinyTransformersModels(dir);
  const ids = (text: string) => text.split(' ').map((w) => models.vocab[`▁${w}`]);
  const row = (token: number) => models.embedding.subarray(token * models.dim, (token + 1) * models.dim);

  it('feature extraction: one mean-pooled embedding per element, batched, equal to the reference', async () => {
    const handler = new TransformersPipelineHandler({ task: 'feature-extraction', model: models.embedderDir });
    const texts = ['good movie', 'bad plot great', 'awful', 'great movie', 'plot'];
    const results = await lastValueFrom(
      from(texts).pipe(runInference(handler, { metrics: false, batch: { minBatchSize: 3 } }), toArray()),
    );
    expect(results.map((r) => r.example)).toEqual(texts);
    results.forEach(({ example, inference }) => {
      const tokens = ids(example);
      const expected = Array.from(
        { length: models.dim },
        (_, d) => tokens.reduce((sum, t) => sum + row(t)[d], 0) / tokens.length,
      );
      expect(inference).toBeInstanceOf(Float32Array);
      Array.from(inference as Float32Array).forEach((v, d) => expect(v).toBeCloseTo(expected[d], 5));
    });
  });

  it('text classification: labels with softmax scores of the reference logits, most likely first', async () => {
    const handler = new TransformersPipelineHandler({
      task: 'text-classification',
      model: models.classifierDir,
      callOptions: { top_k: 2 },
    });
    const texts = ['good movie', 'bad plot', 'awful awful', 'great'];
    const results = await lastValueFrom(from(texts).pipe(runInference(handler, { metrics: false }), toArray()));
    results.forEach(({ example, inference }) => {
      const first = row(ids(example)[0]);
      const logits = [0, 1].map((k) => first.reduce((sum, x, d) => sum + x * models.projection[d * 2 + k], 0));
      const max = Math.max(...logits);
      const exp = logits.map((l) => Math.exp(l - max));
      const scores = exp.map((e) => e / (exp[0] + exp[1]));
      const best = scores[1] > scores[0] ? 1 : 0;
      const labels = inference as readonly TransformersLabel[];
      expect(labels.map((l) => l.label)).toEqual([models.labels[best], models.labels[1 - best]]);
      expect(labels[0].score).toBeCloseTo(scores[best], 5);
    });
  });

  it('a folder that does not exist is a ModelLoadError (nothing is looked up remotely)', async () => {
    const handler = new TransformersPipelineHandler({ task: 'feature-extraction', model: join(dir, 'absent') });
    await expect(handler.loadModel()).rejects.toThrow(ModelLoadError);
    const empty = new TransformersPipelineHandler({ task: 'feature-extraction', model: dir });
    await expect(empty.loadModel()).rejects.toThrow(/Cannot load transformers.js model/);
  });

  it('a non-string element fails its batch (a Left under withExceptionHandling)', async () => {
    const handler = new TransformersPipelineHandler({ task: 'feature-extraction', model: models.embedderDir });
    const out = await lastValueFrom(
      from(['good', 42 as never, 'bad']).pipe(
        withExceptionHandling(runInference(handler, { metrics: false })),
        toArray(),
      ),
    );
    expect(out.map((e) => e._tag)).toEqual(['Right', 'Left', 'Right']);
  });

  it('validates its config', () => {
    expect(() => new TransformersPipelineHandler({ task: 'translation' as never, model: 'x' })).toThrow(/task/);
    expect(() => new TransformersPipelineHandler({ task: 'feature-extraction', model: '' })).toThrow(/model/);
  });
});
