import type { Tensor } from 'onnxruntime-node';
import { BehaviorSubject, firstValueFrom, from, lastValueFrom, Observable, Subject, take, toArray } from 'rxjs';
import { OnnxModelHandler, runInference } from '../../../src/index';
import type { OnnxModel, OnnxExample, OnnxInference, ModelMetadata, PredictionResult } from '../../../src/index';
import {
  convNet,
  mlp,
  twoInputsTwoOutputs,
  type ElementInputs,
  type OnnxFixture,
} from '../../../scripts/fixtures/onnx';
import { expectTensorClose, tempModels } from './onnxTestUtils';

type Result = PredictionResult<OnnxExample, OnnxInference>;

/** A handler whose loaded sessions' `release` and whose batches are recorded. */
function instrumented(fixture: OnnxFixture, modelUri: string | Uint8Array = fixture.bytes) {
  const handler = new OnnxModelHandler({ modelUri });
  const releases: jest.SpyInstance[] = [];
  const batches: (readonly OnnxExample[])[] = [];
  const load = handler.loadModel.bind(handler);
  jest.spyOn(handler, 'loadModel').mockImplementation(async (id?: string) => {
    const model: OnnxModel = await load(id);
    releases.push(jest.spyOn(model.session, 'release'));
    return model;
  });
  const run = handler.runInference.bind(handler);
  jest.spyOn(handler, 'runInference').mockImplementation((batch, model, ctx) => {
    batches.push(batch);
    return run(batch, model, ctx);
  });
  return { handler, releases, batches };
}

/** Checks results one by one against the reference, in input order. */
function expectReference(fixture: OnnxFixture, elements: readonly ElementInputs[], results: readonly Result[]): void {
  expect(results).toHaveLength(elements.length);
  results.forEach((result, p) => {
    expect(result.example).toBe(elements[p]);
    const expected = fixture.forward(elements[p]);
    if (fixture.outputNames.length === 1) {
      expectTensorClose(result.inference as Tensor, expected[fixture.outputNames[0]]);
    } else {
      for (const name of fixture.outputNames) {
        expectTensorClose((result.inference as Record<string, Tensor>)[name], expected[name]);
      }
    }
  });
}

describe('runInference(OnnxModelHandler): results equal the JS reference, in order', () => {
  const fixture = mlp([8, 16, 4]);

  it.each([1, 7, 64])('fixed batch size %i', async (size) => {
    const elements = fixture.sample(150, size);
    const { handler, batches } = instrumented(fixture);
    const results = await lastValueFrom(
      from(elements).pipe(runInference(handler, { batch: { minBatchSize: size, maxBatchSize: size } }), toArray()),
    );
    expectReference(fixture, elements, results);
    expect(Math.max(...batches.map((b) => b.length))).toBe(size);
    expect(batches.reduce((n, b) => n + b.length, 0)).toBe(150);
  });

  it('adaptive batch size (the default estimator)', async () => {
    const elements = fixture.sample(500, 77);
    const { handler, batches } = instrumented(fixture);
    const results = await lastValueFrom(from(elements).pipe(runInference(handler), toArray()));
    expectReference(fixture, elements, results);
    expect(batches[0]).toHaveLength(1);
    expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
  });

  it('names the model each result came from (the path of a file model)', async () => {
    const files = tempModels({ 'mlp.onnx': fixture.bytes });
    try {
      const { handler } = instrumented(fixture, files.path('mlp.onnx'));
      const results = await lastValueFrom(from(fixture.sample(3)).pipe(runInference(handler), toArray()));
      expect(results.map((r) => r.modelId)).toEqual(Array(3).fill(files.path('mlp.onnx')));
    } finally {
      files.cleanup();
    }
  });

  it('two inputs, two outputs: both outputs split per element', async () => {
    const two = twoInputsTwoOutputs();
    const elements = two.sample(40, 8);
    const { handler } = instrumented(two);
    const results = await lastValueFrom(
      from(elements).pipe(runInference(handler, { batch: { minBatchSize: 7, maxBatchSize: 7 } }), toArray()),
    );
    expectReference(two, elements, results);
  });
});

describe('runInference(OnnxModelHandler): mixed shapes in one stream', () => {
  it('conv net, images of two sizes interleaved: batches never mix sizes, results correct and in order', async () => {
    const conv = convNet();
    const small = conv.sample(30, 1);
    const wide = conv.sample(30, 2, { image: [1, 6, 10] });
    const elements = small.flatMap((s, i) => (i % 3 === 0 ? [s, wide[i], wide[i + 1]] : [s]));
    const { handler, batches } = instrumented(conv);
    const results = await lastValueFrom(
      from(elements).pipe(runInference(handler, { batch: { minBatchSize: 7, maxBatchSize: 7 } }), toArray()),
    );
    expectReference(conv, elements, results);
    for (const batch of batches) {
      const shapes = new Set(batch.map((e) => (e as ElementInputs).image.dims.join('x')));
      expect(shapes.size).toBe(1);
    }
    expect(new Set(batches.map((b) => (b[0] as ElementInputs).image.dims.join('x')))).toEqual(
      new Set(['1x8x8', '1x6x10']),
    );
  });
});

describe('runInference(OnnxModelHandler): the session is released', () => {
  const fixture = mlp([8, 16, 4]);

  it('after complete', async () => {
    const { handler, releases } = instrumented(fixture);
    await lastValueFrom(from(fixture.sample(20)).pipe(runInference(handler), toArray()));
    expect(releases).toHaveLength(1);
    expect(releases[0]).toHaveBeenCalledTimes(1);
  });

  it('after unsubscribe (take)', async () => {
    const { handler, releases } = instrumented(fixture);
    const endless = new Observable<ElementInputs>((subscriber) => {
      let i = 0;
      const timer = setInterval(() => subscriber.next(fixture.sample(1, ++i)[0]), 1);
      return () => clearInterval(timer);
    });
    const first = await firstValueFrom(endless.pipe(runInference(handler), take(3), toArray()));
    expect(first).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 20));
    expect(releases).toHaveLength(1);
    expect(releases[0]).toHaveBeenCalledTimes(1);
  });

  it('after an error (a bad element fails the stream with its InvalidExampleError)', async () => {
    const { handler, releases } = instrumented(fixture);
    const elements: OnnxExample[] = [...fixture.sample(5), { input: { data: new Float32Array(3), dims: [3] } }];
    await expect(lastValueFrom(from(elements).pipe(runInference(handler)))).rejects.toMatchObject({
      name: 'InvalidExampleError',
      field: 'input',
      message: expect.stringMatching(/expected dims \[8\].*got \[3\]/),
    });
    expect(releases[0]).toHaveBeenCalledTimes(1);
  });
});

describe('runInference(OnnxModelHandler): model refresh through the side input', () => {
  it('switches to the new file, names it in every result, and releases the old session', async () => {
    const [a, b] = [mlp([8, 16, 4], { seed: 1 }), mlp([8, 16, 4], { seed: 2 })];
    const files = tempModels({ 'a.onnx': a.bytes, 'b.onnx': b.bytes });
    try {
      const { handler, releases } = instrumented(a, files.path('a.onnx'));
      const metadata = new BehaviorSubject<ModelMetadata>({ modelId: files.path('a.onnx'), modelName: 'a' });
      const source = new Subject<ElementInputs>();
      const results: Result[] = [];
      const done = lastValueFrom(source.pipe(runInference(handler, { modelMetadata: metadata }), toArray()));
      const settle = () => new Promise((r) => setTimeout(r, 100));
      const before = a.sample(5, 1);
      before.forEach((e) => source.next(e));
      await settle();
      metadata.next({ modelId: files.path('b.onnx'), modelName: 'b' });
      // Wait for the new session to exist (a loaded machine can take a while), then let the engine switch to it.
      for (let i = 0; i < 100 && releases.length < 2; i++) await settle();
      await settle();
      const after = b.sample(5, 2);
      after.forEach((e) => source.next(e));
      source.complete();
      results.push(...(await done));
      expect(results.map((r) => r.modelId)).toEqual([
        ...Array(5).fill(files.path('a.onnx')),
        ...Array(5).fill(files.path('b.onnx')),
      ]);
      expectReference(a, before, results.slice(0, 5));
      expectReference(b, after, results.slice(5));
      expect(releases).toHaveLength(2);
      for (const release of releases) expect(release).toHaveBeenCalledTimes(1);
    } finally {
      files.cleanup();
    }
  });
});
