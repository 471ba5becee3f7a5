import { getEnvironmentData, setEnvironmentData, threadId } from 'node:worker_threads';

/** Key of the lock's memory in `worker_threads` environment data (copied into every thread started afterwards). */
const LOCK_KEY = 'rxjs-inference:webgpu-lock';

let lockWord: Int32Array | undefined;

/** `Atomics.waitAsync` (Node 16+; in TypeScript's ES2024 lib, above this project's ES2022 target). */
interface AtomicsWaitAsync {
  waitAsync(
    array: Int32Array,
    index: number,
    value: number,
  ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
}

/**
 * The memory of the process-wide WebGPU lock: one `Int32` in a `SharedArrayBuffer`, `0` when free, else the holder's
 * `threadId + 1`.
 *
 * Why (SPEC §8): onnxruntime's WebGPU execution provider shares one Dawn device per process, and two threads using
 * it at once crash the process (segfault, "CommandEncoder is already finished"; onnxruntime issue 32561; reproduced
 * here on lavapipe with two worker threads). Within one thread runs are already sequential. So every session
 * creation, run and release on WebGPU, in any thread, holds this lock.
 *
 * How the threads find the same memory: the first thread that asks publishes it with `setEnvironmentData`, which Node
 * copies (shared, not cloned: it is a `SharedArrayBuffer`) into every worker thread started later, nested ones
 * included; the ONNX worker pool also hands it to its workers explicitly. Importing this module publishes nothing
 * (no side effect at import); the handlers ask for it when a WebGPU model is loaded, before they start any worker.
 * A thread started before the lock existed, that then loads a WebGPU model on its own, gets a lock of its own: start
 * your own worker threads after the first WebGPU model is loaded, or run WebGPU models through
 * `OnnxWorkerModelHandler`.
 */
export function webGpuLockBuffer(): SharedArrayBuffer {
  if (lockWord === undefined) {
    const inherited = getEnvironmentData(LOCK_KEY);
    const buffer = inherited instanceof SharedArrayBuffer ? inherited : new SharedArrayBuffer(4);
    if (buffer !== inherited) setEnvironmentData(LOCK_KEY, buffer);
    lockWord = new Int32Array(buffer);
  }
  return lockWord.buffer as SharedArrayBuffer;
}

/** The holder's id in the lock word for a thread: its `threadId + 1` (`threadId` is 0 on the main thread). */
export function lockOwnerId(thread: number): number {
  return thread + 1;
}

/**
 * Runs `fn` while holding the process-wide WebGPU lock: waits (without blocking the event loop: `Atomics.waitAsync`)
 * until no other thread or caller holds it, and frees it when `fn` settles, whether it resolves or rejects. Callers
 * in the same thread are served one after the other too.
 */
export async function withWebGpuLock<T>(fn: () => Promise<T> | T): Promise<T> {
  const word = new Int32Array(webGpuLockBuffer());
  const me = lockOwnerId(threadId);
  for (;;) {
    const holder = Atomics.compareExchange(word, 0, 0, me);
    if (holder === 0) break;
    const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(word, 0, holder);
    if (wait.async) await wait.value;
  }
  try {
    return await fn();
  } finally {
    Atomics.store(word, 0, 0);
    Atomics.notify(word, 0);
  }
}

/**
 * Frees the lock when the thread `thread` (a worker that died, or was terminated, while running) still holds it, so
 * the other threads do not wait forever. Returns whether it did.
 */
export function releaseWebGpuLockOf(thread: number): boolean {
  if (lockWord === undefined) return false;
  if (Atomics.compareExchange(lockWord, 0, lockOwnerId(thread), 0) !== lockOwnerId(thread)) return false;
  Atomics.notify(lockWord, 0);
  return true;
}
