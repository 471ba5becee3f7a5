import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { releaseWebGpuLockOf, webGpuLockBuffer, withWebGpuLock } from '../../../src/handlers/onnx/webgpuLock';

/** A thread that takes the lock from its environment data (as a user's or a pool's worker would), then obeys `cmd`. */
const HOLDER = `
const { getEnvironmentData, parentPort, threadId } = require('node:worker_threads');
const word = new Int32Array(getEnvironmentData('rxjs-inference:webgpu-lock'));
while (Atomics.compareExchange(word, 0, 0, threadId + 1) !== 0) Atomics.wait(word, 0, Atomics.load(word, 0), 50);
parentPort.postMessage('held');
parentPort.on('message', (cmd) => {
  if (cmd === 'release') {
    Atomics.store(word, 0, 0);
    Atomics.notify(word, 0);
  }
  if (cmd === 'die') process.exit(3);
});
`;

describe('withWebGpuLock: one WebGPU call at a time per process', () => {
  it('serializes callers of one thread, and frees the lock when the call throws', async () => {
    let active = 0;
    let most = 0;
    const call = (fail: boolean) =>
      withWebGpuLock(async () => {
        most = Math.max(most, ++active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active--;
        if (fail) throw new Error('run failed');
        return 'ok';
      });
    const results = await Promise.allSettled([call(false), call(true), call(false), call(false)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(most).toBe(1);
    expect(new Int32Array(webGpuLockBuffer())[0]).toBe(0);
  });

  it('waits for another thread that holds it (shared through worker environment data)', async () => {
    webGpuLockBuffer(); // published before the thread starts, as the handlers do
    const worker = new Worker(HOLDER, { eval: true });
    const events: string[] = [];
    worker.on('message', (m: string) => events.push(m));
    try {
      await once(worker, 'message');
      let releaseAsked = false;
      const waiting = withWebGpuLock(() => events.push(releaseAsked ? 'main ran after the release' : 'main ran early'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(events).toEqual(['held']); // still waiting: the worker holds it
      releaseAsked = true;
      worker.postMessage('release');
      await waiting;
      expect(events).toContain('main ran after the release');
    } finally {
      await worker.terminate();
    }
  });

  it('releaseWebGpuLockOf frees the lock of a thread that died holding it', async () => {
    webGpuLockBuffer();
    const worker = new Worker(HOLDER, { eval: true });
    const threadId = worker.threadId;
    await once(worker, 'message');
    worker.postMessage('die');
    await once(worker, 'exit');
    expect(releaseWebGpuLockOf(threadId + 1000)).toBe(false); // not the holder: untouched
    expect(releaseWebGpuLockOf(threadId)).toBe(true);
    await expect(withWebGpuLock(() => 'free again')).resolves.toBe('free again');
  });
});
