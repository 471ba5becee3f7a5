import type { Worker } from 'node:worker_threads';
import { lastValueFrom, Subject, toArray } from 'rxjs';
import type { ModelMetadata, PredictionResult, OnnxExample, OnnxInference } from '../../../src/index';
import { OnnxWorkerModelHandler, runInference } from '../../../src/index';
import { OnnxWorkerPool } from '../../../src/handlers/onnx/worker/OnnxWorkerPool';
import { mlp } from '../../../scripts/fixtures/onnx';
import { tempModels } from '../onnx/onnxTestUtils';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

// #13 item 8: a refresh superseded mid-load is cancelled — the worker pool being started is terminated — instead of
// running to completion (before: 30 swaps 10 ms apart added 25 threads and 259 MiB at peak).
describe('OnnxWorkerModelHandler: a refresh storm', () => {
  it('30 swaps 10 ms apart: one load at a time, threads bounded, aborted loads neither served nor reported', async () => {
    const fixture = mlp([8, 16, 4], { seed: 3 });
    const names = Array.from({ length: 31 }, (_, i) => `m${i}.onnx`);
    const files = tempModels(Object.fromEntries(names.map((name) => [name, fixture.bytes])));
    // Every worker thread any pool starts, and those that have ended.
    const threads = new Set<Worker>();
    const ended = new Set<Worker>();
    let peakThreads = 0;
    const spawn = (OnnxWorkerPool.prototype as unknown as { spawn: () => { worker: Worker } }).spawn;
    const spawnSpy = jest
      .spyOn(OnnxWorkerPool.prototype as unknown as { spawn: () => { worker: Worker } }, 'spawn')
      .mockImplementation(function (this: OnnxWorkerPool) {
        const slot = spawn.call(this);
        threads.add(slot.worker);
        slot.worker.once('exit', () => ended.add(slot.worker));
        peakThreads = Math.max(peakThreads, threads.size - ended.size);
        return slot;
      });
    const handler = new OnnxWorkerModelHandler({ modelUri: files.path(names[0]!), workers: 1 });
    const load = handler.loadModel.bind(handler);
    let pending = 0;
    let peakPending = 0;
    let aborted = 0;
    const loaded: string[] = [];
    jest.spyOn(handler, 'loadModel').mockImplementation(async (id?: string, signal?: AbortSignal) => {
      peakPending = Math.max(peakPending, ++pending);
      try {
        const model = await load(id, signal);
        loaded.push(id!);
        return model;
      } catch (error) {
        if (signal?.aborted) aborted++;
        throw error;
      } finally {
        pending--;
      }
    });
    const failures: unknown[] = [];
    try {
      const metadata = new Subject<ModelMetadata>();
      const source = new Subject<OnnxExample>();
      const done = lastValueFrom(
        source.pipe(
          runInference(handler, { metrics: false, modelMetadata: metadata, onModelLoadError: (e) => failures.push(e) }),
          toArray(),
        ),
      );
      metadata.next({ modelId: files.path(names[0]!), modelName: 'm0' });
      await until(() => loaded.length === 1); // the first model serves; then the storm
      for (let i = 1; i <= 30; i++) {
        metadata.next({ modelId: files.path(names[i]!), modelName: `m${i}` });
        await sleep(10);
      }
      await until(() => loaded.includes(files.path(names[30]!)));
      await sleep(20);
      source.next(fixture.sample(1, 1)[0]!);
      source.complete();
      const results = (await done) as PredictionResult<OnnxExample, OnnxInference>[];
      expect(results.map((r) => r.modelId)).toEqual([files.path(names[30]!)]);
      // The serving pool's thread and the loading pool's: never the 25 of before. The next load starts only once the
      // cancelled one has ended, and the worker handler ends it by terminating its pool (the threads have exited).
      expect(peakThreads).toBeLessThanOrEqual(2);
      expect(peakPending).toBe(1);
      expect(aborted).toBeGreaterThan(0);
      // Every load either served (m0, m30, and any that finished between two swaps) or was aborted.
      expect(loaded.length + aborted).toBe((handler.loadModel as jest.Mock).mock.calls.length);
      expect(failures).toEqual([]);
      // No thread left behind once the stream is done.
      await until(() => ended.size === threads.size);
    } finally {
      spawnSpy.mockRestore();
      files.cleanup();
    }
  }, 60_000);
});
