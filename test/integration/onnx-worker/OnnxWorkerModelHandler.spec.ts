import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { Tensor } from 'onnxruntime-node';
import { BehaviorSubject, from, lastValueFrom, Subject, tap, toArray } from 'rxjs';
import {
  InferenceError,
  InvalidExampleError,
  ModelLoadError,
  OnnxModelHandler,
  OnnxWorkerModelHandler,
  type OnnxWorkerModel,
  runInference,
} from '../../../src/index';
import type { ModelMetadata, PredictionResult, OnnxExample, OnnxInference } from '../../../src/index';
import { defaultWorkerCount } from '../../../src/handlers/onnx/worker/defaultWorkerCount';
import { intraOpThreadsPerWorker } from '../../../src/handlers/onnx/worker/intraOpThreadsPerWorker';
import { onnxCpuMaxBatchSize } from '../../../src/handlers/onnx/onnxCpuMaxBatchSize';
import { corruptModel, mlp, twoInputsTwoOutputs, type OnnxFixture } from '../../../scripts/fixtures/onnx';
import { context, expectTensorClose, rejection, tempModels } from '../onnx/onnxTestUtils';

type Result = PredictionResult<OnnxExample, OnnxInference>;

/** A worker handler that records the pools it loaded and when each worker thread exited. */
function recorded(config: ConstructorParameters<typeof OnnxWorkerModelHandler>[0], onRun?: () => void) {
  const handler = new OnnxWorkerModelHandler(config);
  const models: OnnxWorkerModel[] = [];
  const exited = new Set<Worker>();
  const load = handler.loadModel.bind(handler);
  jest.spyOn(handler, 'loadModel').mockImplementation(async (id?: string) => {
    const model = await load(id);
    models.push(model);
    for (const worker of model.pool.workers) worker.once('exit', () => exited.add(worker));
    const run = model.pool.run.bind(model.pool);
    jest.spyOn(model.pool, 'run').mockImplementation((...args) => {
      const result = run(...args);
      onRun?.();
      return result;
    });
    return model;
  });
  return { handler, models, exited };
}

const allExited = (model: OnnxWorkerModel, exited: ReadonlySet<Worker>) =>
  model.pool.workers.every((worker) => exited.has(worker));

function expectSameResults(fixture: OnnxFixture, actual: readonly Result[], expected: readonly Result[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((result, p) => {
    expect(result.example).toBe(expected[p].example);
    for (const name of fixture.outputNames) {
      const pick = (r: Result) =>
        (fixture.outputNames.length === 1 ? r.inference : (r.inference as Record<string, Tensor>)[name]) as Tensor;
      const want = pick(expected[p]);
      expectTensorClose(pick(result), {
        type: want.type as 'float32',
        data: want.data as Float32Array,
        dims: want.dims,
      });
    }
  });
}

describe('OnnxWorkerModelHandler through runInference', () => {
  it('gives the inline handler’s results (1e-5), in order, for a batch-growing stream', async () => {
    const fixture = mlp([16, 32, 8]);
    const elements = fixture.sample(300, 3);
    const { handler, models, exited } = recorded({ modelUri: fixture.bytes, workers: 2 });
    const inline = new OnnxModelHandler({ modelUri: fixture.bytes });
    const [viaWorkers, viaInline] = await Promise.all([
      lastValueFrom(from(elements).pipe(runInference(handler, { metrics: false, concurrent: 2 }), toArray())),
      lastValueFrom(from(elements).pipe(runInference(inline, { metrics: false }), toArray())),
    ]);
    expectSameResults(fixture, viaWorkers as Result[], viaInline as Result[]);
    (viaWorkers as Result[]).forEach((r, p) =>
      expectTensorClose(r.inference as Tensor, fixture.forward(elements[p]).output),
    );
    // The stream completed: its pool was released and every worker thread has exited.
    expect(models).toHaveLength(1);
    expect(models[0].pool.size).toBe(2);
    await until(() => allExited(models[0], exited));
  });

  it('splits every output of a multi-input, multi-output model like the inline handler', async () => {
    const fixture = twoInputsTwoOutputs();
    const elements = fixture.sample(20, 5);
    const worker = new OnnxWorkerModelHandler({ modelUri: fixture.bytes, workers: 1 });
    const inline = new OnnxModelHandler({ modelUri: fixture.bytes });
    const viaWorker = await lastValueFrom(from(elements).pipe(runInference(worker, { metrics: false }), toArray()));
    const viaInline = await lastValueFrom(from(elements).pipe(runInference(inline, { metrics: false }), toArray()));
    expectSameResults(fixture, viaWorker as Result[], viaInline as Result[]);
  });

  it('fails a bad element with the same InvalidExampleError as the inline handler', async () => {
    const fixture = mlp([16, 32, 8]);
    const good = fixture.sample(3, 1);
    const bad = [...good, { input: { data: new Float32Array(5), dims: [5] } }];
    const fail = (handler: OnnxModelHandler | OnnxWorkerModelHandler) =>
      rejection(lastValueFrom(from(bad).pipe(runInference(handler, { metrics: false, batch: { minBatchSize: 4 } }))));
    const { handler, models, exited } = recorded({ modelUri: fixture.bytes, workers: 1 });
    const [viaWorker, viaInline] = [await fail(handler), await fail(new OnnxModelHandler({ modelUri: fixture.bytes }))];
    expect(viaWorker).toBeInstanceOf(InvalidExampleError);
    expect(viaWorker.message).toBe(viaInline.message);
    expect(viaWorker.message).toMatch(/^Element #3 of the stream, input `input`: expected dims \[16\] .* got \[5\]\.$/);
    await until(() => allExited(models[0], exited));
  });

  it('releases the pool and its workers when unsubscribed while a batch runs', async () => {
    const { results, errors, unhandled, pool } = await unsubscribedAtRun(1, { minBatchSize: 500 }, 2);
    expect(errors).toEqual([]);
    expect(results).toEqual([]);
    expect(pool.run).toHaveBeenCalledTimes(1);
    expect(unhandled).not.toHaveBeenCalled();
  });

  it('unsubscribing with two batches posted to the worker (one running, one held) releases the pool; nothing leaks', async () => {
    // The default keeps two batches per worker in flight: unsubscribe once the second has been posted too.
    const { results, errors, unhandled, pool } = await unsubscribedAtRun(
      2,
      { minBatchSize: 500, maxBatchSize: 500 },
      4,
    );
    expect(errors).toEqual([]);
    expect(results).toEqual([]);
    expect(pool.run).toHaveBeenCalledTimes(2);
    expect(unhandled).not.toHaveBeenCalled();
  });

  it('loads a refreshed model into a new pool and terminates the old one', async () => {
    const [a, b] = [mlp([8, 16, 4], { seed: 1 }), mlp([8, 16, 4], { seed: 2 })];
    const files = tempModels({ 'a.onnx': a.bytes, 'b.onnx': b.bytes });
    try {
      const { handler, models, exited } = recorded({ modelUri: files.path('a.onnx'), workers: 1 });
      const metadata = new BehaviorSubject<ModelMetadata>({ modelId: files.path('a.onnx'), modelName: 'a' });
      const elements = a.sample(2, 7);
      const source = new Subject<OnnxExample>();
      const done = lastValueFrom(
        source.pipe(
          runInference(handler, { metrics: false, modelMetadata: metadata }),
          tap(() => metadata.next({ modelId: files.path('b.onnx'), modelName: 'b' })),
          toArray(),
        ),
      );
      source.next(elements[0]);
      // Once b is loaded (and has had a moment to become current), the next element runs on it.
      await until(() => models.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 20));
      source.next(elements[1]);
      source.complete();
      const results = (await done) as Result[];
      expect(results.map((r) => r.modelId)).toEqual([files.path('a.onnx'), files.path('b.onnx')]);
      expectTensorClose(results[0].inference as Tensor, a.forward(elements[0]).output);
      expectTensorClose(results[1].inference as Tensor, b.forward(elements[1]).output);
      expect(models).toHaveLength(2);
      await until(() => allExited(models[0], exited) && allExited(models[1], exited));
    } finally {
      files.cleanup();
    }
  });
});

describe('OnnxWorkerModelHandler directly', () => {
  const fixture = mlp([16, 32, 8]);

  it('replaces a worker that dies: its batch fails with a clear error, later batches run', async () => {
    // A model big enough that a batch takes milliseconds, so the worker is killed while it runs.
    const big = mlp([256, 512, 512, 8], { seed: 5 });
    const handler = new OnnxWorkerModelHandler({ modelUri: big.bytes, workers: 1 });
    const model = await handler.loadModel();
    try {
      const elements = big.sample(64, 9);
      const [worker] = model.pool.workers;
      // Termination is requested before the batch is posted (runInference posts synchronously, and the pool sees
      // the exit only later), so the worker can never answer it: the batch always meets a dying worker. Posting
      // first raced with a fast model, which sometimes finished the batch before the thread stopped.
      void worker.terminate();
      const running = handler.runInference(elements, model, context());
      const error = await rejection(running);
      expect(error).toBeInstanceOf(InferenceError);
      expect(error.message).toMatch(/ONNX Runtime failed on a batch of 64 .*worker thread running the batch died/);
      expect(model.pool.workers[0]).not.toBe(worker);
      const results = await handler.runInference(elements, model, context());
      results.forEach((r, p) => expectTensorClose(r.inference as Tensor, big.forward(elements[p]).output));
    } finally {
      await handler.releaseModel(model);
    }
  });

  it('drops a queued batch whose signal aborts, and rejects runs after release', async () => {
    const handler = new OnnxWorkerModelHandler({ modelUri: fixture.bytes, workers: 1 });
    const model = await handler.loadModel();
    const elements = fixture.sample(2, 4);
    const first = handler.runInference(elements, model, context());
    const abort = new AbortController();
    const second = handler.runInference(elements, model, context('m', abort.signal));
    abort.abort(new Error('gone'));
    expect((await rejection(second)).message).toBe('gone');
    expect(await first).toHaveLength(2);
    await handler.releaseModel(model);
    expect((await rejection(handler.runInference(elements, model, context()))).message).toMatch(/released/);
  });

  it('gives the inline ModelLoadError for a corrupt model and starts no worker', async () => {
    const bytes = corruptModel();
    const error = await rejection(new OnnxWorkerModelHandler({ modelUri: bytes }).loadModel());
    const inline = await rejection(new OnnxModelHandler({ modelUri: bytes }).loadModel());
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toBe(inline.message);
  });

  it('validates `workers` at construction', () => {
    expect(() => new OnnxWorkerModelHandler({ modelUri: fixture.bytes, workers: 0 })).toThrow(
      expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(/`workers`/) }),
    );
    expect(() => new OnnxWorkerModelHandler({ modelUri: fixture.bytes, workers: '2' as never })).toThrow(TypeError);
    expect(new OnnxWorkerModelHandler({ modelUri: fixture.bytes }).batchConfig().batchKeyFn).toBeDefined();
  });
});

/**
 * 2,000 elements (fixture seed `seed`) through a one-worker handler, unsubscribed when the pool's `run` is called for
 * the `atRun`th time — right after that batch was posted to the worker (a setImmediate here raced a fast worker on a
 * busy machine: the results sometimes came back first). Resolves 50 ms after the pool's threads have ended, with what
 * reached the subscriber, the pool, and whether a rejection went unhandled.
 */
async function unsubscribedAtRun(atRun: number, batch: { minBatchSize: number; maxBatchSize?: number }, seed: number) {
  const fixture = mlp([64, 256, 256, 8]);
  const elements = fixture.sample(2000, seed);
  const results: unknown[] = [];
  const errors: unknown[] = [];
  const unhandled = jest.fn();
  process.on('unhandledRejection', unhandled);
  let runs = 0;
  let unsubscribe = () => {};
  const { handler, models, exited } = recorded({ modelUri: fixture.bytes, workers: 1 }, () => {
    if (++runs === atRun) unsubscribe();
  });
  try {
    const subscription = from(elements)
      .pipe(runInference(handler, { metrics: false, batch }))
      .subscribe({ next: (r) => results.push(r), error: (e) => errors.push(e) });
    unsubscribe = () => subscription.unsubscribe();
    await until(() => models.length === 1 && allExited(models[0], exited));
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.off('unhandledRejection', unhandled);
  }
  return { results, errors, unhandled, pool: models[0].pool };
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('OnnxWorkerModelHandler: default pool size', () => {
  it('min(2, cores); one per 4 cores (at most 4) from 12 cores; one on WebGPU', () => {
    expect([1, 2, 4, 8, 11].map((cores) => defaultWorkerCount(cores, 'cpu'))).toEqual([1, 2, 2, 2, 2]);
    expect([12, 16, 20, 64].map((cores) => defaultWorkerCount(cores, 'cpu'))).toEqual([3, 4, 4, 4]);
    expect(defaultWorkerCount(16, 'cuda')).toBe(4);
    expect([2, 16].map((cores) => defaultWorkerCount(cores, 'webgpu'))).toEqual([1, 1]);
  });

  it('the pool a default handler loads has that many workers, each with floor(cores / workers) threads', async () => {
    const fixture = mlp([8, 16, 4]);
    const handler = new OnnxWorkerModelHandler({ modelUri: fixture.bytes });
    const model = await handler.loadModel();
    try {
      const workers = defaultWorkerCount(availableParallelism(), 'cpu');
      expect(model.pool.size).toBe(workers);
      expect(model.pool.sessionOptions).toMatchObject({
        intraOpNumThreads: intraOpThreadsPerWorker(availableParallelism(), workers),
      });
      expect(handler.concurrency()).toBe(2 * workers);
    } finally {
      await handler.releaseModel(model);
    }
  });
});

describe('OnnxWorkerModelHandler: default maxBatchSize', () => {
  it("on the CPU, onnxCpuMaxBatchSize of one worker's threads; an explicit thread count or maxBatchSize wins", () => {
    const bound = (config: Omit<ConstructorParameters<typeof OnnxWorkerModelHandler>[0], 'modelUri'>) =>
      new OnnxWorkerModelHandler({ modelUri: new Uint8Array(1), ...config }).batchConfig().maxBatchSize;
    const cores = availableParallelism();
    expect(bound({})).toBe(onnxCpuMaxBatchSize(intraOpThreadsPerWorker(cores, defaultWorkerCount(cores, 'cpu'))));
    expect(bound({ workers: 1 })).toBe(onnxCpuMaxBatchSize(cores));
    expect(bound({ workers: 1, sessionOptions: { intraOpNumThreads: 16 } })).toBe(2048);
    expect(bound({ workers: 1, sessionOptions: { intraOpNumThreads: 2 } })).toBe(512);
    expect(bound({ sessionOptions: { intraOpNumThreads: 32 }, batch: { maxBatchSize: 64 } })).toBe(64);
    expect(bound({ device: 'webgpu' })).toBe(4096);
    // The worker count it reads from the config: a WebGPU provider on 'cpu' means one worker (all the cores' threads).
    expect(bound({ sessionOptions: { executionProviders: ['webgpu'] } })).toBe(onnxCpuMaxBatchSize(cores));
    // Providers that are not an array are for the load to report, not a TypeError here.
    expect(bound({ sessionOptions: { executionProviders: {} as never } })).toBe(bound({}));
  });

  it('sessionOptions that are not an object, or no config at all, still fail with the inline checks', () => {
    expect(() => new OnnxWorkerModelHandler({ modelUri: new Uint8Array(1), sessionOptions: null as never })).toThrow(
      /sessionOptions/,
    );
    expect(() => new OnnxWorkerModelHandler(undefined as never)).toThrow(
      /Expected `modelUri` to be a file path or the model's bytes/,
    );
  });
});

describe('OnnxWorkerModelHandler: intra-op threads per worker session', () => {
  it('shares the cores out among the workers, at least one thread each', () => {
    expect(intraOpThreadsPerWorker(16, 2)).toBe(8);
    expect(intraOpThreadsPerWorker(16, 4)).toBe(4);
    expect(intraOpThreadsPerWorker(16, 3)).toBe(5);
    expect(intraOpThreadsPerWorker(2, 4)).toBe(1);
    expect(intraOpThreadsPerWorker(1, 1)).toBe(1);
  });

  it('each worker session is created with its share; sessionOptions.intraOpNumThreads overrides it', async () => {
    const fixture = mlp([8, 16, 4]);
    const shared = new OnnxWorkerModelHandler({ modelUri: fixture.bytes, workers: 2 });
    const model = await shared.loadModel();
    try {
      expect(model.pool.sessionOptions).toMatchObject({
        intraOpNumThreads: Math.max(1, Math.floor(availableParallelism() / 2)),
      });
      const [result] = await shared.runInference([fixture.sample(1)[0].input.data as Float32Array], model, context());
      expectTensorClose(result.inference as Tensor, fixture.forward(fixture.sample(1)[0]).output);
    } finally {
      await shared.releaseModel(model);
    }
    const given = new OnnxWorkerModelHandler({
      modelUri: fixture.bytes,
      workers: 1,
      sessionOptions: { intraOpNumThreads: 3 },
    });
    const own = await given.loadModel();
    expect(own.pool.sessionOptions).toMatchObject({ intraOpNumThreads: 3 });
    await given.releaseModel(own);
  });
});
