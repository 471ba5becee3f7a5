import type { Tensor } from 'onnxruntime-node';
import { from, lastValueFrom, of, toArray } from 'rxjs';
import type { PredictionResult, OnnxExample, OnnxInference } from '../../src/index';
import { OnnxModelHandler, KeyedModelHandler, runInference } from '../../src/index';
import { mlp, type ElementInputs, type OnnxFixture } from '../../scripts/fixtures/onnx';
import { expectTensorClose, tempModels } from '../integration/onnx/onnxTestUtils';

// A model per key group with real ONNX Runtime sessions: three MLPs the repository builds (same shapes, different
// weights), so a result computed by the wrong group's model cannot pass the reference check.
const fixtures: Record<string, OnnxFixture> = {
  A: mlp([4, 8, 3], { seed: 1, name: 'A' }),
  B: mlp([4, 8, 3], { seed: 2, name: 'B' }),
  C: mlp([4, 8, 3], { seed: 3, name: 'C' }),
};
type Result = readonly [string, PredictionResult<OnnxExample, OnnxInference>];

describe('KeyedModelHandler over OnnxModelHandler groups (real sessions)', () => {
  let files: ReturnType<typeof tempModels>;
  beforeAll(() => {
    files = tempModels(Object.fromEntries(Object.entries(fixtures).map(([n, f]) => [`${n}.onnx`, f.bytes])));
  });
  afterAll(() => files.cleanup());

  /** A handler for `file` that counts live sessions (loaded and not yet released). */
  function tracked(file: string, live: { now: number; max: number; loads: number; releases: number }) {
    const handler = new OnnxModelHandler({ modelUri: files.path(file) });
    const load = handler.loadModel.bind(handler);
    const release = handler.releaseModel.bind(handler);
    jest.spyOn(handler, 'loadModel').mockImplementation(async (id?: string) => {
      const model = await load(id);
      live.loads++;
      live.max = Math.max(live.max, ++live.now);
      return model;
    });
    jest.spyOn(handler, 'releaseModel').mockImplementation((model) => {
      live.releases++;
      live.now--;
      return release(model);
    });
    return handler;
  }

  function expectFrom(fixture: OnnxFixture, element: ElementInputs, result: Result[1]): void {
    expect(result.example).toBe(element);
    expectTensorClose(result.inference as Tensor, fixture.forward(element)['output']!);
  }

  it('runs each key on its group model, in input order, with at most one session alive (maxModelsInMemory 1)', async () => {
    const live = { now: 0, max: 0, loads: 0, releases: 0 };
    const keyed = new KeyedModelHandler(
      [
        { keys: ['a', 'b'], handler: tracked('A.onnx', live) },
        { keys: ['c'], handler: tracked('B.onnx', live) },
      ],
      { maxModelsInMemory: 1 },
    );
    const samples = fixtures.A!.sample(60, 9);
    const elements = samples.map((s, i) => [['a', 'c', 'b'][i % 3]!, s] as const);
    const results = await lastValueFrom(from(elements).pipe(runInference(keyed, { metrics: false }), toArray()));
    expect(results).toHaveLength(60);
    results.forEach(([key, result], i) => {
      expect(key).toBe(elements[i]![0]);
      expectFrom(key === 'c' ? fixtures.B! : fixtures.A!, samples[i]!, result);
    });
    expect(live.loads).toBeGreaterThanOrEqual(2);
    expect(live.max).toBe(1);
    expect(live.releases).toBe(live.loads); // every evicted session released, and the last one at completion
    expect(live.now).toBe(0);
  });

  it('per-key refresh: a group split onto a new model file, each result naming the model that produced it', async () => {
    const live = { now: 0, max: 0, loads: 0, releases: 0 };
    const keyed = new KeyedModelHandler([
      { keys: ['a', 'b'], handler: tracked('A.onnx', live) },
      { keys: ['c'], handler: tracked('B.onnx', live) },
    ]);
    const modelMetadata = of([
      { keys: ['a'], updatePath: files.path('A.onnx') },
      { keys: ['b'], updatePath: files.path('C.onnx') },
      { keys: ['c'], updatePath: files.path('B.onnx') },
    ]);
    const samples = fixtures.A!.sample(30, 4);
    const elements = samples.map((s, i) => [['a', 'b', 'c'][i % 3]!, s] as const);
    const results = await lastValueFrom(
      from(elements).pipe(runInference(keyed, { metrics: false, modelMetadata }), toArray()),
    );
    const fileOf: Record<string, string> = { a: 'A', b: 'C', c: 'B' };
    results.forEach(([key, result], i) => {
      expectFrom(fixtures[fileOf[key]!]!, samples[i]!, result);
      expect(result.modelId).toBe(files.path(`${fileOf[key]}.onnx`));
    });
    expect(live.loads).toBe(3);
    expect(live.now).toBe(0);
  });
});
