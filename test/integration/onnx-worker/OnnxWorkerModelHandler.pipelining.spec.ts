import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import type { Tensor } from 'onnxruntime-node';
import { type Either, isLeft } from 'fp-ts/lib/Either.js';
import { from, lastValueFrom, toArray } from 'rxjs';
import {
  OnnxWorkerModelHandler,
  type FailedRecord,
  type OnnxWorkerModel,
  runInference,
  withExceptionHandling,
  type OnnxExample,
  type PredictionResult,
} from '../../../src/index';
import { defaultWorkerCount } from '../../../src/handlers/onnx/worker/defaultWorkerCount';
import { OnnxWorkerPool } from '../../../src/handlers/onnx/worker/OnnxWorkerPool';
import { WorkerRunError } from '../../../src/handlers/onnx/worker/WorkerRunError';
import { mlp } from '../../../scripts/fixtures/onnx';
import { expectTensorClose, rejection, tempModels } from '../onnx/onnxTestUtils';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const ortPath = createRequire(__filename).resolve('onnxruntime-node');
// Big enough that a batch of 64 takes milliseconds: the second batch is still waiting in the worker when it is aborted.
const big = mlp([256, 512, 512, 8], { seed: 11 });

function pool(size = 1) {
  return new OnnxWorkerPool({ ortPath, model: big.bytes, source: 'big', sessionOptions: {}, size });
}

const feeds = (rows: number, value = 0.25) => ({
  input: { type: 'float32', data: new Float32Array(rows * 256).fill(value), dims: [rows, 256] },
});

/** The 'run' messages posted to each of a pool's workers. */
function postedRuns(workers: OnnxWorkerPool): number[] {
  const counts = workers.workers.map(() => 0);
  workers.workers.forEach((worker, w) => {
    const post = worker.postMessage.bind(worker);
    jest.spyOn(worker, 'postMessage').mockImplementation((message: { type: string }, transfer) => {
      if (message.type === 'run') counts[w]++;
      post(message, transfer);
    });
  });
  return counts;
}

describe('OnnxWorkerPool pipelining: each worker holds its next batch', () => {
  it('posts a second batch to a busy worker at once; the answers come back in order, each its own', async () => {
    const workers = pool();
    try {
      await workers.ready;
      const posted = postedRuns(workers);
      const [a, b] = [workers.run(feeds(64, 0.25), ['output'], undefined), workers.run(feeds(2, -0.5), ['output'], {})];
      // Both are in the worker's thread already: it starts b as soon as a ends.
      expect(posted).toEqual([2]);
      const [outA, outB] = await Promise.all([a, b]);
      expect(outA.output.dims).toEqual([64, 8]);
      expect(outB.output.dims).toEqual([2, 8]);
      const want = (value: number) =>
        big.forward({ input: { type: 'float32', data: new Float32Array(256).fill(value), dims: [256] } }).output;
      expectTensorClose(
        { ...outB.output, data: (outB.output.data as Float32Array).subarray(0, 8), dims: [8] } as never,
        want(-0.5),
      );
      expectTensorClose(
        { ...outA.output, data: (outA.output.data as Float32Array).subarray(0, 8), dims: [8] } as never,
        want(0.25),
      );
    } finally {
      await workers.release();
    }
  });

  it('with two workers, the second batch goes to the idle one, the third to a busy one', async () => {
    const workers = pool(2);
    try {
      await workers.ready;
      const posted = postedRuns(workers);
      const runs = [0, 1, 2].map(() => workers.run(feeds(8), ['output'], undefined));
      expect(posted).toEqual([2, 1]);
      // A fourth fills the other worker; a fifth waits in the pool until a worker has answered one.
      runs.push(workers.run(feeds(8), ['output'], undefined), workers.run(feeds(8), ['output'], undefined));
      expect(posted).toEqual([2, 2]);
      await Promise.all(runs);
      expect(posted[0] + posted[1]).toBe(5);
    } finally {
      await workers.release();
    }
  });

  it('skips a batch aborted while it waits in the worker; the batch before it and the ones after run', async () => {
    const workers = pool();
    try {
      await workers.ready;
      const abort = new AbortController();
      const first = workers.run(feeds(64), ['output'], undefined);
      const second = workers.run(feeds(64), ['output'], undefined, abort.signal);
      abort.abort(new Error('not wanted any more'));
      expect((await rejection(second)).message).toBe('not wanted any more');
      expect((await first).output.dims).toEqual([64, 8]);
      expect((await workers.run(feeds(3), ['output'], undefined)).output.dims).toEqual([3, 8]);
    } finally {
      // Resolves only once the worker has answered every batch posted to it (the skipped one included).
      await workers.release();
    }
  });

  it('a worker that dies fails the batch it ran and the one it held, then its replacement serves', async () => {
    const workers = pool();
    try {
      await workers.ready;
      const [worker] = workers.workers;
      void worker.terminate();
      const running = workers.run(feeds(64), ['output'], undefined);
      const held = workers.run(feeds(64), ['output'], undefined);
      const [e1, e2] = [await rejection(running), await rejection(held)];
      expect(e1).toBeInstanceOf(WorkerRunError);
      expect(e1.message).toMatch(/the worker thread running the batch died .*; it has been replaced/);
      expect(e2).toBeInstanceOf(WorkerRunError);
      expect(e2.message).toMatch(/the worker thread holding the batch \(queued behind another\) died/);
      expect(workers.workers[0]).not.toBe(worker);
      expect((await workers.run(feeds(3), ['output'], undefined)).output.dims).toEqual([3, 8]);
    } finally {
      await workers.release();
    }
  });
});

describe('OnnxWorkerModelHandler: batches in flight by default', () => {
  it('concurrency(): two per worker, one worker on WebGPU; runInference uses it unless `concurrent` is given', () => {
    const modelUri = big.bytes;
    expect(new OnnxWorkerModelHandler({ modelUri, workers: 3 }).concurrency()).toBe(6);
    expect(new OnnxWorkerModelHandler({ modelUri }).concurrency()).toBe(
      2 * defaultWorkerCount(availableParallelism(), 'cpu'),
    );
    expect(new OnnxWorkerModelHandler({ modelUri, device: 'webgpu' }).concurrency()).toBe(2);
    expect(
      new OnnxWorkerModelHandler({ modelUri, sessionOptions: { executionProviders: ['webgpu'] } }).concurrency(),
    ).toBe(2);
    expect(new OnnxWorkerModelHandler({ modelUri, device: 'webgpu', workers: 2 }).concurrency()).toBe(4);
    expect(new OnnxWorkerModelHandler({ modelUri, workers: 1 }).withPostprocessFn((r) => r).concurrency()).toBe(2);
  });

  /** Records the most batches the pool had at once. */
  function peakOf(handler: OnnxWorkerModelHandler) {
    const seen = { peak: 0, now: 0, models: [] as OnnxWorkerModel[] };
    const load = handler.loadModel.bind(handler);
    jest.spyOn(handler, 'loadModel').mockImplementation(async (id?: string) => {
      const model = await load(id);
      seen.models.push(model);
      const run = model.pool.run.bind(model.pool);
      jest.spyOn(model.pool, 'run').mockImplementation((...args) => {
        seen.peak = Math.max(seen.peak, ++seen.now);
        const result = run(...args);
        void result.then(
          () => seen.now--,
          () => seen.now--,
        );
        return result;
      });
      return model;
    });
    return seen;
  }

  it('one worker: two batches in flight by default, results in input order and equal to the model', async () => {
    const elements = big.sample(96, 3);
    const handler = new OnnxWorkerModelHandler({ modelUri: big.bytes, workers: 1 });
    const seen = peakOf(handler);
    const config = { metrics: false as const, batch: { minBatchSize: 8, maxBatchSize: 8 } };
    const results = await lastValueFrom(from(elements).pipe(runInference(handler, config), toArray()));
    expect(seen.peak).toBe(2);
    results.forEach((r, p) => {
      expect(r.example).toBe(elements[p]);
      expectTensorClose(r.inference as Tensor, big.forward(elements[p]).output);
    });
    const single = new OnnxWorkerModelHandler({ modelUri: big.bytes, workers: 1 });
    const one = peakOf(single);
    await lastValueFrom(from(elements).pipe(runInference(single, { ...config, concurrent: 1 }), toArray()));
    expect(one.peak).toBe(1);
  });
});

describe('OnnxWorkerModelHandler: a failing batch among pipelined ones', () => {
  const files = tempModels({ 'big.onnx': big.bytes });
  afterAll(() => files.cleanup());
  // Fails a run (in the worker) when any row starts with 999; else one session.run.
  writeFileSync(
    files.path('poisoned.cjs'),
    `module.exports = async (session, feeds, context) => {
      const x = feeds.input;
      for (let r = 0; r < x.dims[0]; r++) if (x.data[r * x.dims[1]] === 999) throw new Error('row ' + r + ' is poisoned');
      return session.run(feeds, context.outputNames, context.runOptions);
    };`,
  );

  it('fails only its own element (bisected); the batches around it, in flight with it, are intact and in order', async () => {
    const elements: OnnxExample[] = big.sample(40, 5);
    const poisoned = new Float32Array(256).fill(0.1);
    poisoned[0] = 999;
    elements[13] = { input: { data: poisoned, dims: [256] } };
    const handler = new OnnxWorkerModelHandler({
      modelUri: files.path('big.onnx'),
      workers: 2,
      inferenceFn: { module: files.path('poisoned.cjs') },
    });
    const results = (await lastValueFrom(
      from(elements).pipe(
        withExceptionHandling(runInference(handler, { metrics: false, batch: { minBatchSize: 4, maxBatchSize: 4 } })),
        toArray(),
      ),
    )) as Either<FailedRecord, PredictionResult<OnnxExample, Tensor>>[];
    expect(results).toHaveLength(40);
    expect(results.map((r, p) => (isLeft(r) ? p : -1)).filter((p) => p >= 0)).toEqual([13]);
    results.forEach((r, p) => {
      if (isLeft(r)) {
        expect(r.left.stage).toBe('inference');
        expect(r.left.element).toBe(elements[13]);
        expect(messageOf(r.left.error)).toMatch(/row 0 is poisoned/);
        return;
      }
      expect(r.right.example).toBe(elements[p]);
      expectTensorClose(r.right.inference, big.forward(elements[p] as never).output);
    });
  });
});
