import { Worker } from 'node:worker_threads';
import { InferenceError, messageOf, ModelLoadError } from '../../../core/errors.js';
import { releaseWebGpuLockOf } from '../webgpuLock.js';
import { WORKER_SOURCE } from './workerSource.js';
import type { OnnxWorkerPoolOptions, WireTensor, WorkerMessage, WorkerRunExtras } from './workerProtocol.js';
import { WorkerRunError } from './WorkerRunError.js';

/**
 * Batches posted to one worker at a time: the one it runs and the next, waiting in its thread, so that it starts the
 * next without waiting for the pool's thread. `OnnxWorkerModelHandler.concurrency()` keeps as many per worker in flight.
 */
export const BATCHES_PER_WORKER = 2;

interface Job {
  readonly id: number;
  readonly feeds: Readonly<Record<string, WireTensor>>;
  readonly transfer: ArrayBuffer[];
  readonly outputNames: readonly string[];
  readonly runOptions: object | undefined;
  readonly resolve: (outputs: Record<string, WireTensor>) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
  readonly extras: WorkerRunExtras | undefined;
  /** Settled already (aborted): a late answer of the worker is dropped. */
  done: boolean;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Batches posted to this worker, oldest first: the one it is running, then the ones waiting in its thread. */
  readonly jobs: Job[];
  /** The last uncaught error of this worker, for the message when it exits. */
  lastError: string | undefined;
  /** Its thread has ended. */
  exited: boolean;
  /** Its `threadId` (a worker that has exited reports -1), to free the WebGPU lock if it died holding it. */
  readonly threadId: number;
}

/**
 * A pool of worker threads, each holding one onnxruntime session of the same model: the "model" of
 * `OnnxWorkerModelHandler`. `session.run` blocks the thread it runs on; here that is a worker, so the main thread's
 * event loop stays responsive.
 *
 * - `ready` resolves once every worker has loaded the model (rejects with a `ModelLoadError` if one cannot).
 * - `run(feeds, …)` queues a batch; it is posted to the worker with the fewest batches, up to `BATCHES_PER_WORKER` (2) per worker:
 *   a busy worker holds the next batch and starts it as soon as its run ends, without a round trip through this
 *   thread (which may be busy stacking or splitting). Input buffers are TRANSFERRED (the caller's arrays are
 *   detached), outputs are transferred back. A failing `session.run` rejects with the worker's message; the worker
 *   goes on with its next batch.
 * - A worker that dies (uncaught error, `process.exit`, terminated from outside) fails the batches posted to it (the
 *   one it was running and the one it held) with a `WorkerRunError` naming the cause, and is replaced by a fresh one
 *   that loads the model again.
 * - An aborted `signal` removes a queued batch, skips one waiting in a worker, or drops the result of a running one
 *   (the native run itself cannot be interrupted).
 * - `release()` lets in-flight batches finish, rejects queued ones, then closes every worker: each releases its
 *   session and its thread ends. `terminate(reason)` ends every thread at once (a load that was cancelled).
 * - Idle workers are `unref`'d: a pool never keeps the process alive on its own.
 */
export class OnnxWorkerPool {
  /** Resolves once every worker has loaded the model. */
  readonly ready: Promise<void>;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closing = false;
  /** Set when a worker could not load the model: every later `run` fails with it. */
  private broken: Error | undefined;
  private readyCount = 0;
  private fnOutputNames: readonly string[] | undefined;
  private settleReady!: { resolve: () => void; reject: (error: Error) => void };
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly options: OnnxWorkerPoolOptions) {
    this.ready = new Promise<void>((resolve, reject) => (this.settleReady = { resolve, reject }));
    // Nobody may be awaiting `ready` when it fails (the pool is broken then, and `run` reports it).
    this.ready.catch(() => undefined);
    for (let i = 0; i < options.size; i++) this.slots.push(this.spawn());
  }

  /** Number of workers (live or being replaced). */
  get size(): number {
    return this.slots.length;
  }

  /** The session options every worker creates its session with, for inspection (tests, diagnostics). */
  get sessionOptions(): object {
    return this.options.sessionOptions;
  }

  /** The `outputNames` of the workers' `inferenceFn`, when it declares them (known once a worker is ready). */
  get inferenceFnOutputNames(): readonly string[] | undefined {
    return this.fnOutputNames;
  }

  /** The pool's worker threads, for inspection (tests, diagnostics). */
  get workers(): readonly Worker[] {
    return this.slots.map((slot) => slot.worker);
  }

  /** Runs one batch on the next idle worker. `feeds`' typed arrays are transferred: do not use them afterwards. */
  run(
    feeds: Readonly<Record<string, WireTensor>>,
    outputNames: readonly string[],
    runOptions: object | undefined,
    signal?: AbortSignal,
    extras?: WorkerRunExtras,
  ): Promise<Record<string, WireTensor>> {
    if (this.closing) return Promise.reject(new InferenceError('The ONNX worker pool has been released.', 0));
    if (this.broken) return Promise.reject(this.broken);
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const transfer: ArrayBuffer[] = [];
      for (const { data } of Object.values(feeds)) {
        if (ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer && !transfer.includes(data.buffer)) {
          transfer.push(data.buffer);
        }
      }
      const job: Job = {
        id: this.nextId++,
        feeds,
        transfer,
        outputNames,
        runOptions,
        resolve,
        reject,
        signal,
        extras,
        done: false,
        onAbort: () => {
          const queued = this.queue.indexOf(job);
          if (queued >= 0) this.queue.splice(queued, 1);
          // The worker holding it is told: a batch still waiting there is skipped, a running inferenceFn (a
          // generation loop) stops between its steps.
          this.slots.find((slot) => slot.jobs.includes(job))?.worker.postMessage({ type: 'abort', id: job.id });
          this.settle(job, () => reject(signal?.reason));
        },
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Waits for in-flight batches, rejects queued ones and closes every worker (session released, thread ended). */
  async release(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      for (const job of this.queue.splice(0)) {
        this.settle(job, () => job.reject(new InferenceError('The ONNX worker pool was released.', 0)));
      }
    }
    while (this.slots.some((slot) => slot.jobs.length > 0)) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    // A graceful close: each worker releases its session, then its thread ends.
    await Promise.all(this.slots.map((slot) => this.close(slot)));
  }

  /**
   * Ends every worker thread now, without waiting for anything (a load no longer wanted: its pool is still starting).
   * `ready` rejects with `reason`, queued batches fail, and later runs fail; resolves once every thread has ended.
   */
  async terminate(reason: Error): Promise<void> {
    this.breakPool(reason);
    this.closing = true;
    await Promise.all(this.slots.map((slot) => (slot.exited ? undefined : slot.worker.terminate())));
  }

  private close(slot: Slot): Promise<void> {
    if (slot.exited) return Promise.resolve();
    return new Promise<void>((resolve) => {
      slot.worker.once('exit', () => resolve());
      slot.worker.ref();
      slot.worker.postMessage({ type: 'close' });
    });
  }

  private spawn(): Slot {
    const { ortPath, model, sessionOptions, webGpuLock, inferenceFn } = this.options;
    const workerData = { ortPath, model, sessionOptions, webGpuLock, inferenceFn };
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    const slot: Slot = {
      worker,
      ready: false,
      jobs: [],
      lastError: undefined,
      exited: false,
      threadId: worker.threadId,
    };
    worker.on('message', (message: WorkerMessage) => this.onMessage(slot, message));
    worker.on('error', (error) => (slot.lastError = messageOf(error)));
    worker.on('exit', (code) => {
      slot.exited = true;
      // A worker that died inside a WebGPU run must not leave every other thread waiting for the lock.
      if (webGpuLock !== undefined) releaseWebGpuLockOf(slot.threadId);
      this.onExit(slot, code);
    });
    return slot;
  }

  private onMessage(slot: Slot, message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        this.fnOutputNames ??= message.outputNames;
        slot.ready = true;
        if (++this.readyCount === this.slots.length) this.settleReady.resolve();
        this.dispatch();
        break;
      case 'loadError': {
        const error = new ModelLoadError(
          `Cannot load ONNX model \`${this.options.source}\` in a worker thread: ${message.message}`,
          typeof this.options.model === 'string' ? this.options.model : '',
        );
        this.breakPool(error);
        break;
      }
      case 'partial': {
        const job = slot.jobs[0];
        if (job !== undefined && job.id === message.id && !job.done)
          job.extras?.onPartial?.(message.row, message.value);
        break;
      }
      case 'result':
      case 'error': {
        // A worker answers its batches in the order they were posted to it (found by id all the same).
        const at = slot.jobs.findIndex((posted) => posted.id === message.id);
        const job = at < 0 ? undefined : slot.jobs.splice(at, 1)[0];
        this.flushIdleWaiters();
        if (job !== undefined) {
          if (message.type === 'result') this.settle(job, () => job.resolve(message.outputs));
          else this.settle(job, () => job.reject(new WorkerRunError(message.message)));
        }
        this.dispatch();
        break;
      }
    }
  }

  private onExit(slot: Slot, code: number): void {
    if (this.closing) return;
    const cause = slot.lastError ?? `it exited with code ${code}`;
    // Its batches cannot be run elsewhere: their buffers were transferred to the thread that died.
    slot.jobs.splice(0).forEach((job, position) => {
      const what = position === 0 ? 'running the batch' : 'holding the batch (queued behind another)';
      this.settle(job, () =>
        job.reject(new WorkerRunError(`the worker thread ${what} died (${cause}); it has been replaced`)),
      );
    });
    if (!slot.ready) {
      this.breakPool(
        new ModelLoadError(
          `Cannot load ONNX model \`${this.options.source}\` in a worker thread: ${cause}`,
          typeof this.options.model === 'string' ? this.options.model : '',
        ),
      );
      return;
    }
    const index = this.slots.indexOf(slot);
    this.readyCount--;
    this.slots[index] = this.spawn();
    this.flushIdleWaiters();
  }

  /** A worker could not load the model: fail everything queued, and every later run. */
  private breakPool(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    this.settleReady.reject(error);
    for (const job of this.queue.splice(0)) this.settle(job, () => job.reject(error));
  }

  /**
   * Posts queued batches to the ready workers with the fewest batches, up to `BATCHES_PER_WORKER` each: an idle worker first, then
   * a second batch to a busy one, which waits in that thread and starts the moment the first ends (no round trip
   * through this thread's event loop between two runs).
   */
  private dispatch(): void {
    while (this.queue.length > 0) {
      let target: Slot | undefined;
      for (const slot of this.slots) {
        if (
          slot.ready &&
          slot.jobs.length < BATCHES_PER_WORKER &&
          (target === undefined || slot.jobs.length < target.jobs.length)
        ) {
          target = slot;
        }
      }
      if (target === undefined) break;
      const job = this.queue.shift()!;
      target.jobs.push(job);
      target.worker.ref();
      const { id, feeds, outputNames, runOptions, transfer, extras } = job;
      const { inferenceArgs, modelId } = extras ?? {};
      target.worker.postMessage({ type: 'run', id, feeds, outputNames, runOptions, inferenceArgs, modelId }, transfer);
    }
    for (const slot of this.slots) if (slot.ready && slot.jobs.length === 0) slot.worker.unref();
  }

  private settle(job: Job, settle: () => void): void {
    if (job.done) return;
    job.done = true;
    job.signal?.removeEventListener('abort', job.onAbort);
    settle();
  }

  private flushIdleWaiters(): void {
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }
}
