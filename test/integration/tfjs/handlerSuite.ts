// The TfjsModelHandler behaviour suite, run once per backend (tfjsHandler.wasm.spec.ts, tfjsHandler.cpu.spec.ts).
import { BehaviorSubject, Subject, from, lastValueFrom, toArray } from 'rxjs';
import type { ModelMetadata, TfjsModel, TfjsOutput, TfjsExample, TfjsBackendName } from '../../../src/index';
import {
  InferenceError,
  InvalidExampleError,
  TfjsModelHandler,
  type TfjsPrediction,
  runInference,
  withExceptionHandling,
} from '../../../src/index';
import {
  type GraphFixture,
  type LayersFixture,
  type MultiOutput,
  writeGraphModel,
  writeIntGraphModel,
  type GraphIntOutputs,
  writeMultiOutputLayersModel,
  writeMultiInputLayersModel,
  type MultiInputFixture,
  writeSequenceLayersModel,
  writeSmallLayersModel,
  writeTwoOutputGraphModel,
  type GraphTwoOutputs,
} from '../../../scripts/fixtures/tfjs';
import {
  expectClose,
  makeTempDir,
  recordingLogger,
  removeDir,
  runBatch,
  single,
  tf,
  useBackend,
  settle,
  vectors,
} from './tfjsTestKit';

/** Resolves when the handler has released a model. */
function releasedPromise(handler: TfjsModelHandler<any>): Promise<void> {
  return new Promise<void>((resolve) => {
    const release = handler.releaseModel.bind(handler);
    jest.spyOn(handler, 'releaseModel').mockImplementation((m) => {
      release(m);
      resolve();
    });
  });
}

interface Fixtures {
  dir: string;
  small: LayersFixture<Float32Array>;
  small2: LayersFixture<Float32Array>;
  multi: LayersFixture<MultiOutput>;
  multiInput: MultiInputFixture;
  sequence: LayersFixture<Float32Array>;
  graph: GraphFixture<Float32Array>;
  graphTwo: GraphFixture<GraphTwoOutputs>;
  graphAsync: GraphFixture<Float32Array>;
  graphConst: GraphFixture<Float32Array>;
  graphInt: GraphFixture<GraphIntOutputs>;
}

/** Defines the handler's behaviour tests on one backend. */
export function describeTfjsHandler(backend: Exclude<TfjsBackendName, 'tensorflow'>): void {
  const fx = {} as Fixtures;
  let baseline = 0;

  const handlerFor = (modelUri: string, modelType: 'layers' | 'graph' = 'layers'): TfjsModelHandler =>
    new TfjsModelHandler({ modelUri, modelType, backend, logger: recordingLogger() });

  beforeAll(async () => {
    await useBackend(backend);
    fx.dir = await makeTempDir();
    fx.small = await writeSmallLayersModel(tf, `${fx.dir}/small`);
    fx.small2 = await writeSmallLayersModel(tf, `${fx.dir}/small2`, 2);
    fx.multi = await writeMultiOutputLayersModel(tf, `${fx.dir}/multi`);
    fx.multiInput = await writeMultiInputLayersModel(tf, `${fx.dir}/multi-input`);
    fx.sequence = await writeSequenceLayersModel(tf, `${fx.dir}/sequence`);
    fx.graph = await writeGraphModel(`${fx.dir}/graph`);
    fx.graphTwo = await writeTwoOutputGraphModel(`${fx.dir}/graph-two`);
    fx.graphAsync = await writeGraphModel(`${fx.dir}/graph-async`, { asyncControlFlow: true });
    fx.graphConst = await writeGraphModel(`${fx.dir}/graph-const`, { constOutput: true });
    fx.graphInt = await writeIntGraphModel(`${fx.dir}/graph-int`);
  });

  afterAll(async () => {
    await removeDir(fx.dir);
  });

  beforeEach(() => {
    baseline = tf.memory().numTensors;
  });

  afterEach(() => {
    // Every case, passing or failing, ends with no tensor left behind (models are released inside each case).
    expect(tf.memory().numTensors).toBe(baseline);
  });

  /** Loads, runs `body`, releases; asserts the tensor count is back to the loaded level after `body`. */
  async function withModel(handler: TfjsModelHandler<any>, body: (model: TfjsModel) => Promise<void>): Promise<void> {
    const model = await handler.loadModel();
    expect(model.backend).toBe(backend);
    expect(tf.getBackend()).toBe(backend);
    const loaded = tf.memory().numTensors;
    expect(loaded).toBeGreaterThan(baseline); // the weights
    try {
      await body(model);
      expect(tf.memory().numTensors).toBe(loaded);
    } finally {
      handler.releaseModel(model);
    }
  }

  describe(`on the ${backend} backend`, () => {
    it('runs a layers model on nested arrays, typed arrays and tensors, matching the reference', async () => {
      const handler = handlerFor(fx.small.modelJson);
      await withModel(handler, async (model) => {
        const xs = vectors(5, 4);
        const nested = await runBatch(handler, model, xs, 'small-v1');
        nested.forEach((r, i) => {
          expect(r.example).toBe(xs[i]);
          expect(r.modelId).toBe('small-v1');
          const out = single(r.inference);
          expect(out.shape).toEqual([3]);
          expect(out.dtype).toBe('float32');
          expectClose(out.data, fx.small.reference(xs[i] as number[]));
        });
        const typed = xs.map((x) => ({ data: Float32Array.from(x), shape: [4] }));
        const typedResults = await runBatch(handler, model, typed);
        typedResults.forEach((r, i) => expectClose(single(r.inference).data, fx.small.reference(xs[i] as number[])));
        const tensors = xs.map((x) => tf.tensor1d(x));
        try {
          const tensorResults = await runBatch(handler, model, tensors);
          tensorResults.forEach((r, i) => expectClose(single(r.inference).data, fx.small.reference(xs[i] as number[])));
          // A batch mixing tensors and arrays of the same shape is packed too; input tensors stay the caller's.
          const mixed = await runBatch(handler, model, [tensors[0], xs[1], typed[2]]);
          mixed.forEach((r, i) => expectClose(single(r.inference).data, fx.small.reference(xs[i] as number[])));
          expect(tensors.every((t) => !t.isDisposed)).toBe(true);
        } finally {
          tf.dispose(tensors);
        }
      });
    });

    it('splits multi-output layers models into a record per element', async () => {
      const handler = handlerFor(fx.multi.modelJson);
      await withModel(handler, async (model) => {
        expect(model.outputNames).toEqual(['class_logits', 'score']);
        const xs = vectors(4, 4, 3);
        const results = await runBatch(handler, model, xs);
        results.forEach((r, i) => {
          const record = r.inference as Record<string, TfjsOutput>;
          const expected = fx.multi.reference(xs[i] as number[]);
          expect(Object.keys(record)).toEqual(['class_logits', 'score']);
          expect(record.class_logits?.shape).toEqual([3]);
          expect(record.score?.shape).toEqual([1]);
          expectClose(record.class_logits?.data as Float32Array, expected.class_logits);
          expectClose(record.score?.data as Float32Array, expected.score);
        });
      });
    });

    it('takes a record of input name → tensor-like for multi-input models', async () => {
      const handler = handlerFor(fx.multiInput.modelJson);
      await withModel(handler, async (model) => {
        expect(model.inputs.map((i) => [i.name, i.shape])).toEqual([
          ['a', [2]],
          ['b', [3]],
        ]);
        const batch = [
          { a: [1, 2], b: [3, 4, 5] },
          { b: { data: Float32Array.of(0.5, 0, -1), shape: [3] }, a: [-1, 0.25] },
        ];
        const results = await runBatch(handler, model, batch);
        expectClose(single(results[0]?.inference).data, fx.multiInput.reference([1, 2], [3, 4, 5]));
        expectClose(single(results[1]?.inference).data, fx.multiInput.reference([-1, 0.25], [0.5, 0, -1]));
        await expect(runBatch(handler, model, [{ a: [1, 2] }])).rejects.toThrow(
          /Element 0 of the batch: input `b` is missing/,
        );
        await expect(runBatch(handler, model, [[1, 2, 3, 4, 5]])).rejects.toThrow(
          /the model has 2 inputs \(`a`, `b`\); give a record of input name → tensor/,
        );
        await expect(runBatch(handler, model, [{ a: [1, 2], b: [1, 2] }])).rejects.toMatchObject({
          name: 'InvalidExampleError',
          field: 'b',
          message: expect.stringMatching(/expected shape \[3\] per element .* got \[2\]/),
        });
      });
    });

    it('runs graph models with execute, several outputs, and executeAsync when the graph needs it', async () => {
      const xs = vectors(3, 4, 5);
      const graph = handlerFor(fx.graph.modelJson, 'graph');
      await withModel(graph, async (model) => {
        expect(model.inputs).toEqual([{ name: 'x', shape: [4], dtype: 'float32' }]);
        const results = await runBatch(graph, model, xs);
        results.forEach((r, i) => expectClose(single(r.inference).data, fx.graph.reference(xs[i] as number[])));
      });
      const two = handlerFor(fx.graphTwo.modelJson, 'graph');
      await withModel(two, async (model) => {
        const results = await runBatch(two, model, xs);
        results.forEach((r, i) => {
          const record = r.inference as Record<string, TfjsOutput>;
          const expected = fx.graphTwo.reference(xs[i] as number[]);
          expect(Object.keys(record).sort()).toEqual(['hidden', 'logits']);
          expectClose(record.hidden?.data as Float32Array, expected.hidden);
          expectClose(record.logits?.data as Float32Array, expected.logits);
        });
      });
      const asyncGraph = handlerFor(fx.graphAsync.modelJson, 'graph');
      await withModel(asyncGraph, async (model) => {
        const zeros = tf.zeros([1, 4]);
        expect(() => (model.model as { execute(x: unknown): unknown }).execute(zeros)).toThrow(/executeAsync/);
        zeros.dispose();
        for (let round = 0; round < 3; round++) {
          const results = await runBatch(asyncGraph, model, xs);
          results.forEach((r, i) => expectClose(single(r.inference).data, fx.graphAsync.reference(xs[i] as number[])));
        }
      });
    });

    it('packs int32 inputs for an int32 model and returns int32 scalar outputs per element', async () => {
      const handler = handlerFor(fx.graphInt.modelJson, 'graph');
      await withModel(handler, async (model) => {
        expect(model.inputs).toEqual([{ name: 'x', shape: [4], dtype: 'int32' }]);
        const xs = [
          [1, -2, 3, 0],
          [4, 4, -1, 2],
          [0, 0, 0, 7],
        ];
        const batch = [xs[0], { data: Int32Array.from(xs[1] as number[]), shape: [4] }, { data: xs[2], shape: [4] }];
        const results = await runBatch(handler, model, batch);
        results.forEach((r, i) => {
          const record = r.inference as Record<string, TfjsOutput>;
          const expected = fx.graphInt.reference(xs[i] as number[]);
          expectClose(record.logits?.data as Float32Array, expected.logits);
          expect(record.class).toEqual({ data: expected.class, shape: [], dtype: 'int32' });
          expect(record.class?.data).toBeInstanceOf(Int32Array);
        });
        await expect(runBatch(handler, model, [[1, 2.5, 3, 4]])).rejects.toThrow(
          /value at \[1\]: expected an int32, got `2.5`/,
        );
        await expect(runBatch(handler, model, [{ data: new Float32Array(4), shape: [4] }])).rejects.toThrow(
          /expected dtype int32 \(the model's\), got float32/,
        );
      });
    });

    it('fails a batch whose output has no batch dimension, disposing everything but the model weights', async () => {
      const handler = handlerFor(fx.graphConst.modelJson, 'graph');
      await withModel(handler, async (model) => {
        const xs = vectors(2, 4);
        await expect(runBatch(handler, model, xs)).rejects.toThrow(InferenceError);
        await expect(runBatch(handler, model, xs)).rejects.toThrow(/Output `scale` has shape \[8\]/);
        // The weight returned as an output was not disposed: a batch of 8 splits it and still matches.
        const eight = vectors(8, 4);
        const results = await runBatch(handler, model, eight);
        results.forEach((r, i) => {
          const record = r.inference as Record<string, TfjsOutput>;
          expectClose(record.logits?.data as Float32Array, fx.graphConst.reference(eight[i] as number[]));
          expectClose(record.scale?.data as Float32Array, [0.5]);
        });
      });
    });

    it('accepts NaN and ±Infinity with allowNonFinite (or the deprecated checkFinite: false), rejects them by default', async () => {
      const nan = [1, NaN, 3, Infinity];
      const typed = { data: Float32Array.of(1, 2, -Infinity, NaN), shape: [4] };
      for (const config of [{ allowNonFinite: true }, { checkFinite: false }]) {
        const handler = new TfjsModelHandler({
          modelUri: fx.small.modelJson,
          modelType: 'layers',
          backend,
          logger: recordingLogger(),
          ...config,
        });
        await withModel(handler, async (model) => {
          const results = await runBatch(handler, model, [nan, typed]);
          expect(results).toHaveLength(2);
        });
      }
      const strict = new TfjsModelHandler({
        modelUri: fx.small.modelJson,
        modelType: 'layers',
        backend,
        logger: recordingLogger(),
        checkFinite: true,
      });
      await withModel(strict, async (model) => {
        await expect(runBatch(strict, model, [typed])).rejects.toThrow(/got `-Infinity` at index 2/);
      });
    });

    it('rejects bad elements with InvalidExampleError naming position, input and expectation, leaking nothing', async () => {
      const handler = handlerFor(fx.small.modelJson);
      await withModel(handler, async (model) => {
        const input = (model.inputs[0] as { name: string }).name;
        const cases: [unknown[], RegExp, number | undefined][] = [
          [[[1, 2, 3, 4, 5]], /expected shape \[4\] per element .*got \[5\]/, 0],
          [[{ data: new Int32Array(4), shape: [4] }], /expected dtype float32 \(the model's\), got int32/, 0],
          [
            [
              [1, 2, 3, 4],
              [1, NaN, 3, 4],
            ],
            /value at \[1\]: expected a finite number, got `NaN`/,
            1,
          ],
          [
            [{ data: Float32Array.of(1, 2, Infinity, 4), shape: [4] }],
            /expected a finite number, got `Infinity` at index 2/,
            0,
          ],
          [
            [
              [1, 2, 3, 4],
              [1, 2, 'x', 4],
            ],
            /expected a number, got `x` \(string\)/,
            1,
          ],
          [[{ data: new Float32Array(3), shape: [4] }], /`data` has 3 values but shape \[4\] needs 4/, 0],
          [[[1, 2, 3, 4], 'oops'], /expected a tf.Tensor, \{ data, shape \}/, 1],
          [[{ other: [1, 2, 3, 4] }], /unknown input `other`/, 0],
          [
            [
              [1, 2, 3, 4],
              [1, 2, 3],
            ],
            /shape \[3\] differs from \[4\] of example 0/,
            1,
          ],
          [
            [{ data: new Float64Array(4), shape: [4] }],
            /Float32Array, Int32Array, Uint8Array or number\[\], got Float64Array/,
            0,
          ],
          [
            [{ data: new Float32Array(4), shape: [4], dtype: 'int32' }],
            /`dtype` is 'int32' but `data` is a Float32Array/,
            0,
          ],
          [[{ data: [], shape: [-1] }], /`shape` must hold non-negative integers, got \[-1\]/, 0],
          [[[1, 2, 3, 4], null], /Element 1 of the batch: expected a tf.Tensor, .* or a record of them, got null/, 1],
          [[[1, 2, [3], 4]], /value at \[2\]: expected a number, got `\[3\]` \(array\)/, 0],
          [
            [
              { data: [1, 2, 3, 4], shape: [4] },
              { data: [1, 2, 3, Infinity], shape: [4] },
            ],
            /value 3: expected a finite/,
            1,
          ],
          [[], /empty batch/, undefined],
        ];
        for (const [batch, message, position] of cases) {
          const error = await runBatch(handler, model, batch).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(InvalidExampleError);
          expect((error as Error).message).toMatch(message);
          expect((error as InvalidExampleError).position).toBe(position);
          if (position !== undefined && !/unknown input/.test(message.source)) {
            expect((error as InvalidExampleError).field).toBe(input);
          }
        }
        const disposed = tf.tensor1d([1, 2, 3, 4]);
        disposed.dispose();
        await expect(runBatch(handler, model, [disposed])).rejects.toThrow(/the tensor is disposed/);
        const wrongTensor = tf.tensor1d([1, 2, 3, 4], 'int32');
        try {
          await expect(runBatch(handler, model, [wrongTensor])).rejects.toThrow(/expected dtype float32/);
        } finally {
          wrongTensor.dispose();
        }
      });
    });

    it("returns per-element tensors with outputs: 'tensors', owned by the caller", async () => {
      const handler = new TfjsModelHandler({
        modelUri: fx.multi.modelJson,
        modelType: 'layers',
        backend,
        outputs: 'tensors',
        logger: recordingLogger(),
      });
      const model = await handler.loadModel();
      const loaded = tf.memory().numTensors;
      const xs = vectors(3, 4);
      const results = await runBatch(handler, model, xs);
      expect(tf.memory().numTensors).toBe(loaded + 3 * 2);
      results.forEach((r, i) => {
        const record = r.inference as unknown as Record<string, ReturnType<typeof tf.tensor>>;
        expect(record.class_logits?.shape).toEqual([3]);
        expectClose(
          record.class_logits?.dataSync() as Float32Array,
          fx.multi.reference(xs[i] as number[]).class_logits,
        );
        tf.dispose(Object.values(record));
      });
      expect(tf.memory().numTensors).toBe(loaded);
      handler.releaseModel(model);
    });

    it('loads from an IOHandler and from a modelId given at load time, and releases to the baseline', async () => {
      const artifactsHandler = new TfjsModelHandler({
        ioHandler: {
          load: async () => {
            const { fileModelIOHandler } = await import('../../../src/handlers/tfjs/tfjsModelFiles');
            const artifacts = await (fileModelIOHandler(fx.small.modelJson).load as () => Promise<unknown>)();
            return artifacts as never;
          },
        },
        modelType: 'layers',
        backend,
        logger: recordingLogger(),
      });
      expect(artifactsHandler.defaultModelId()).toBe('');
      await withModel(artifactsHandler, async (model) => {
        const [r] = await runBatch(artifactsHandler, model, [[1, 2, 3, 4]]);
        expectClose(single(r?.inference).data, fx.small.reference([1, 2, 3, 4]));
      });
      // A refresh names another model: the directory of the multi-output model.
      const handler = handlerFor(fx.small.modelJson);
      const other = await handler.loadModel(`${fx.dir}/multi`);
      expect(other.outputNames).toEqual(['class_logits', 'score']);
      expect(other.modelId).toBe(`${fx.dir}/multi`);
      handler.releaseModel(other);
    });

    describe('through runInference', () => {
      it('emits one result per element in order, keeps different shapes in different batches', async () => {
        const handler = handlerFor(fx.sequence.modelJson);
        const batches: number[][] = [];
        const spy = jest.spyOn(handler, 'runInference');
        const lengths = [1, 3, 2, 3, 1, 2, 2, 3, 1, 1];
        const elements = lengths.map((rows, i) => vectors(rows, 4, 100 + i));
        const results = await lastValueFrom(
          from(elements).pipe(runInference(handler, { metrics: false, batch: { minBatchSize: 10 } }), toArray()),
        );
        for (const call of spy.mock.calls) batches.push(call[0].map((e) => (e as number[][]).length));
        expect(results).toHaveLength(elements.length);
        results.forEach((r, i) => {
          expect(r.example).toBe(elements[i]);
          const out = single(r.inference);
          expect(out.shape).toEqual([lengths[i], 3]);
          expectClose(out.data, fx.sequence.reference((elements[i] as number[][]).flat()));
        });
        // Each batch holds one element length only, and every length was batched.
        for (const batch of batches) expect(new Set(batch).size).toBe(1);
        expect(batches.flat().sort()).toEqual([...lengths].sort());
        expect(batches.length).toBeLessThan(elements.length);
      });

      it('returns to the tensor baseline after 1,000 batches, never holding batch tensors between them', async () => {
        const handler = handlerFor(fx.small.modelJson);
        let loadedLevel = -1;
        let worst = 0;
        let calls = 0;
        const counting = handler.withPostprocessFn((r) => {
          // Runs after a batch is split: its tensors must all be gone by now.
          worst = Math.max(worst, tf.memory().numTensors);
          return r;
        });
        const load = handler.loadModel.bind(handler);
        jest.spyOn(handler, 'loadModel').mockImplementation(async (id) => {
          const model = await load(id);
          loadedLevel = tf.memory().numTensors;
          return model;
        });
        const run = handler.runInference.bind(handler);
        jest.spyOn(handler, 'runInference').mockImplementation((batch, model, ctx) => {
          calls++;
          return run(batch, model, ctx);
        });
        const xs = vectors(2500, 4, 9);
        const results = await lastValueFrom(
          from(xs).pipe(runInference(counting, { metrics: false, batch: { maxBatchSize: 2 } }), toArray()),
        );
        expect(calls).toBeGreaterThanOrEqual(1000);
        expect(results).toHaveLength(2500);
        for (const i of [0, 1234, 2499]) {
          expectClose(single(results[i]?.inference).data, fx.small.reference(xs[i] as number[]));
        }
        expect(worst).toBe(loadedLevel);
        // afterEach: back to the baseline once the stream completed (the model is released before completion).
      });

      it('sends poison elements to the dead letters under withExceptionHandling; the rest of their batch succeeds', async () => {
        const handler = handlerFor(fx.small.modelJson);
        const good = vectors(12, 4, 77);
        const elements: TfjsExample[] = [...good];
        elements.splice(3, 0, [1, NaN, 3, 4]);
        elements.splice(8, 0, [1, 2, 'x', 4] as never);
        elements.splice(11, 0, [[1], 2, 3, 4]);
        const results = await lastValueFrom(
          from(elements).pipe(
            withExceptionHandling(runInference(handler, { metrics: false, batch: { minBatchSize: 8 } })),
            toArray(),
          ),
        );
        expect(results).toHaveLength(elements.length);
        const lefts = results.flatMap((r, i) => (r._tag === 'Left' ? [i] : []));
        expect(lefts).toEqual([3, 8, 11]);
        for (const i of lefts) {
          const failure = (results[i] as { left: { stage: string; element: unknown; error: Error } }).left;
          expect(failure.stage).toBe('inference');
          expect(failure.element).toBe(elements[i]);
          expect(failure.error).toBeInstanceOf(InvalidExampleError);
        }
        let g = 0;
        results.forEach((r) => {
          if (r._tag === 'Right')
            expectClose(single(r.right.inference).data, fx.small.reference(good[g++] as number[]));
        });
        expect(g).toBe(good.length);
      });

      it('swaps models on a modelMetadata refresh, names the model in each result, and releases both', async () => {
        const handler = handlerFor(fx.small.modelJson);
        const loaded: string[] = [];
        const load = handler.loadModel.bind(handler);
        jest.spyOn(handler, 'loadModel').mockImplementation(async (id) => {
          const model = await load(id);
          loaded.push(model.modelId);
          return model;
        });
        const released = jest.spyOn(handler, 'releaseModel');
        const metadata = new BehaviorSubject<ModelMetadata>({ modelId: '', modelName: 'v1' });
        const source = new Subject<number[]>();
        const results: TfjsPrediction[] = [];
        const done = lastValueFrom(
          source.pipe(runInference(handler, { metrics: false, modelMetadata: metadata }), toArray()),
        ).then((all) => results.push(...all));
        const [x1, x2] = vectors(2, 4, 31) as [number[], number[]];
        // Wait until v1 runs the first element, then refresh, and wait until v2 is loaded before the next element.
        const spyRun = jest.spyOn(handler, 'runInference');
        source.next(x1);
        while (spyRun.mock.calls.length === 0) await settle(5);
        metadata.next({ modelId: fx.small2.modelJson, modelName: 'v2' });
        while (loaded.length < 2) await settle(5);
        source.next(x2);
        source.complete();
        await done;
        expect(loaded).toEqual([fx.small.modelJson, fx.small2.modelJson]);
        expect(results.map((r) => r.modelId)).toEqual([fx.small.modelJson, fx.small2.modelJson]);
        expectClose(single(results[0]?.inference).data, fx.small.reference(x1));
        expectClose(single(results[1]?.inference).data, fx.small2.reference(x2));
        expect(released).toHaveBeenCalledTimes(2);
        // afterEach: both models' weights are gone.
      });

      it('runs several batches in flight (concurrent: 4, unordered) with correct results and no leak', async () => {
        const handler = handlerFor(fx.small.modelJson);
        const xs = vectors(200, 4, 55);
        const results = await lastValueFrom(
          from(xs).pipe(
            runInference(handler, { metrics: false, concurrent: 4, ordered: false, batch: { maxBatchSize: 5 } }),
            toArray(),
          ),
        );
        expect(results).toHaveLength(xs.length);
        expect(new Set(results.map((r) => r.example)).size).toBe(xs.length);
        for (const r of results) expectClose(single(r.inference).data, fx.small.reference(r.example as number[]));
      });

      it('fails the stream on a bad element without leaking, and releases the model', async () => {
        const handler = handlerFor(fx.small.modelJson);
        const source = from([
          [1, 2, 3, 4],
          [1, 2, 3],
          [5, 6, 7, 8],
        ]);
        await expect(lastValueFrom(source.pipe(runInference(handler, { metrics: false })))).rejects.toThrow(
          /shape|expected/,
        );
      });

      it('leaves no tensor behind when unsubscribed mid-stream', async () => {
        const handler = handlerFor(fx.small.modelJson);
        const released = releasedPromise(handler);
        const seen: unknown[] = [];
        const subscription = from(vectors(50, 4))
          .pipe(runInference(handler, { metrics: false, batch: { maxBatchSize: 4 } }))
          .subscribe((r) => {
            seen.push(r);
            if (seen.length === 5) subscription.unsubscribe();
          });
        await released;
        await settle();
        expect(seen).toHaveLength(5);
        expect(tf.memory().numTensors).toBe(baseline);
      });

      it("disposes the tensors of a batch in flight when unsubscribed (outputs: 'tensors')", async () => {
        const handler = new TfjsModelHandler({
          modelUri: fx.small.modelJson,
          modelType: 'layers',
          backend,
          outputs: 'tensors',
          logger: recordingLogger(),
        });
        const released = releasedPromise(handler);
        const run = handler.runInference.bind(handler);
        let calls = 0;
        jest.spyOn(handler, 'runInference').mockImplementation((batch, model, ctx) => {
          calls++;
          // Unsubscribe while the batch runs: its per-element tensors are made but nobody will receive them.
          queueMicrotask(() => subscription.unsubscribe());
          return run(batch, model, ctx);
        });
        const seen: unknown[] = [];
        const subscription = from(vectors(8, 4))
          .pipe(runInference(handler, { metrics: false }))
          .subscribe((r) => seen.push(r));
        await released;
        await settle();
        expect(calls).toBe(1);
        expect(seen).toHaveLength(0);
        expect(tf.memory().numTensors).toBe(baseline);
      });
    });
  });
}
