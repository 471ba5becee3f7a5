import { type SchedulerLike, Subscription } from 'rxjs';
import { describeValue, InferenceError, InferenceTimeoutError } from '../core/errors.js';
import { BatchAbort, batchContext } from '../core/batchContext.js';
import type { FailedRecord, InferenceArgs } from '../core/types.js';
import type { RunInferenceMetrics } from '../metrics/RunInferenceMetrics.js';
import type { ModelHandler } from '../models/ModelHandler.js';
import { isOutputArray, isPartialOutput } from '../models/inferenceOutputs.js';
import type { PartialOutput } from '../core/PartialOutput.js';
import { asyncOutputs, plainPromise, reportUnhandled } from './async.js';
import { failure } from './Failed.js';
import { namedInStream } from './streamPosition.js';
import type { LoadedModel } from './ModelSlot.js';
import { BatchSpan, type TracerLike } from './BatchSpan.js';
import type { TaggedBatch } from '../batching/BatchQueue.js';

/**
 * A batch taken from the engine's queue, as parallel arrays (no object per element): the preprocessed values, each
 * element's sequence number (its position in the stream) and arrival time.
 */
export type QueuedBatch = TaggedBatch<unknown>;

export interface BatchRunnerOptions {
  readonly handler: ModelHandler<any, any, any>;
  readonly scheduler: SchedulerLike;
  readonly clock: () => number;
  readonly inferenceArgs: InferenceArgs | undefined;
  readonly timeoutMs: number | undefined;
  readonly metrics: RunInferenceMetrics | undefined;
  /** Where a span per model call goes (`runInference`'s `tracer`); absent: no spans. */
  readonly tracer?: TracerLike;
  /** Split a failed batch in halves until the failing elements are alone. */
  readonly bisect: boolean;
  /** Each element's value is itself the batch (`withNoBatching`; a queued batch holds one element). */
  readonly noBatching: boolean;
  /** With `noBatching`: the array of outputs of element `seq`. */
  readonly onOutputs: (seq: number, outputs: unknown, modelId: string) => void;
  /** The outputs of elements `[lo, hi)` of `batch`, one per element (not with `noBatching`). */
  readonly onBatchOutputs: (
    batch: QueuedBatch,
    lo: number,
    hi: number,
    outputs: readonly unknown[],
    modelId: string,
  ) => void;
  readonly onFailure: (seq: number, record: FailedRecord) => void;
  /** A partial output of element `seq`, which arrived at `arrivedAt` (`streamInference`); absent: ignored. */
  readonly onPartial?: (seq: number, arrivedAt: number, value: unknown) => void;
  /** A model call succeeded: feed the batch-size estimator. */
  readonly onSuccess: (size: number, latencyMs: number) => void;
}

/**
 * One dispatched batch and, after a failure with bisection on, the parts still to run: a stack of `[lo, hi)` index
 * pairs into `batch` (pushed as `lo, hi`), so bisecting copies no elements.
 */
interface Job {
  readonly model: LoadedModel<any>;
  readonly batch: QueuedBatch;
  readonly original: readonly unknown[];
  readonly parts: number[];
  readonly done: () => void;
}

interface Running {
  /** The call's abort side (its signal is created only if the handler reads it). */
  readonly abort: BatchAbort;
  readonly subscription: Subscription;
  readonly span: BatchSpan | undefined;
}

/**
 * Runs batches on a model: calls the handler, checks that it returned one output per input, enforces `timeoutMs`,
 * records metrics, and on failure either fails every element of the batch or bisects it. Synchronous handlers are
 * driven synchronously (no Promise in between) and bisection runs as a loop, not a recursion, so a batch of 10,000
 * failing elements cannot overflow the stack.
 */
export class BatchRunner {
  private readonly running = new Set<Running>();

  constructor(private readonly options: BatchRunnerOptions) {}

  /** Runs `batch` on `model`; `done` is called once every element has succeeded or failed. */
  run(batch: QueuedBatch, model: LoadedModel<any>, done: () => void): void {
    const { metrics, noBatching, clock } = this.options;
    const original = noBatching ? (batch.items[0] as readonly unknown[]) : batch.items;
    if (metrics !== undefined) this.metricsFor(model, original).recordQueueWait(clock() - batch.times[0]);
    this.drive({ model, batch, original, parts: [0, batch.items.length], done }, original);
  }

  /** Aborts every batch in flight (unsubscribe, error): their results will never be delivered. */
  abortAll(): void {
    for (const running of this.running) {
      running.abort.abort();
      running.subscription.unsubscribe();
      running.span?.end('aborted');
    }
    this.running.clear();
  }

  /** Runs the job's parts until one goes asynchronous (it resumes the loop when done) or none is left. */
  private drive(job: Job, firstBatch?: readonly unknown[]): void {
    let values = firstBatch;
    const { parts, batch } = job;
    while (parts.length > 0) {
      const hi = parts.pop()!;
      const lo = parts.pop()!;
      values ??= this.options.noBatching ? (batch.items[lo] as readonly unknown[]) : batch.items.slice(lo, hi);
      const handled = this.attempt(job, lo, hi, values);
      values = undefined;
      if (!handled) return;
    }
    job.done();
  }

  /** Calls the model on one part. Returns true when the outcome was handled synchronously. */
  private attempt(job: Job, lo: number, hi: number, batch: readonly unknown[]): boolean {
    const { handler, scheduler, clock, inferenceArgs } = this.options;
    const started = clock();
    const abort = new BatchAbort();
    const context = batchContext(inferenceArgs, job.model.id, scheduler, abort);
    const span = BatchSpan.start(this.options.tracer, job.model.id, batch.length);
    let result: unknown;
    try {
      result = handler.runInference(batch, job.model.model, context);
    } catch (error) {
      this.failed(job, lo, hi, batch, error, true, span);
      return true;
    }
    const promise = plainPromise(result);
    if (promise !== undefined) {
      this.awaitPromise(job, lo, hi, batch, promise, { abort, subscription: new Subscription(), span }, started);
      return false;
    }
    const outputs$ = asyncOutputs(result);
    if (outputs$ === undefined) {
      this.completed(job, lo, hi, batch, result as readonly unknown[], started, span);
      return true;
    }
    const running: Running = { abort, subscription: new Subscription(), span };
    this.running.add(running);
    // Whether it settled (not merely ended: abortAll ends a call without settling it).
    let finished = false;
    let settledSync = true;
    const finish = (outcome: () => void): void => {
      if (!this.end(running)) return;
      finished = true;
      outcome();
      if (!settledSync) this.drive(job);
    };
    const chunks: unknown[] = [];
    running.subscription.add(
      outputs$.subscribe({
        next: (chunk) => {
          if (!isPartialOutput(chunk)) chunks.push(chunk);
          else if (!finished)
            this.partial(job.batch, lo, batch, chunk, (error) =>
              finish(() => this.failed(job, lo, hi, batch, error, false, span)),
            );
        },
        error: (error: unknown) => finish(() => this.failed(job, lo, hi, batch, error, true, span)),
        complete: () =>
          finish(() => {
            // A delivered value that is not an array is reported as the result (#13 item 1), not flattened into one.
            const bad = chunks.findIndex((chunk) => !isOutputArray(chunk));
            const outputs = bad >= 0 ? chunks[bad] : chunks.length === 1 ? chunks[0] : chunks.flat();
            this.completed(job, lo, hi, batch, outputs, started, span);
          }),
      }),
    );
    if (finished) return true;
    settledSync = false;
    this.armTimeout(job, batch.length, running, (error) =>
      finish(() => this.failed(job, lo, hi, batch, error, false, span)),
    );
    return false;
  }

  /**
   * A handler's plain Promise (no partial outputs): awaited with one `then`, as `from(promise)` would deliver it, but
   * without an Observable, a subscriber and their closures per batch (issue 11, P3 low load: a batch of one element
   * pays the whole per-batch path). `running.subscription` closed means finished: abortAll and the timeout close it.
   */
  private awaitPromise(
    job: Job,
    lo: number,
    hi: number,
    batch: readonly unknown[],
    promise: Promise<unknown>,
    running: Running,
    started: number,
  ): void {
    this.running.add(running);
    const { span } = running;
    promise
      .then(
        (outputs: unknown) => {
          if (!this.end(running)) return;
          this.completed(job, lo, hi, batch, outputs, started, span);
          this.drive(job);
        },
        (error: unknown) => {
          if (!this.end(running)) return;
          this.failed(job, lo, hi, batch, error, true, span);
          this.drive(job);
        },
      )
      .then(undefined, reportUnhandled);
    this.armTimeout(job, batch.length, running, (error) => {
      if (!this.end(running)) return;
      this.failed(job, lo, hi, batch, error, false, span);
      this.drive(job);
    });
  }

  /**
   * Ends a call in flight once, whichever comes first — its outcome, its timeout or `abortAll` (which closes it
   * itself): forgets it and closes its subscription (and timer). False when it had ended already.
   */
  private end(running: Running): boolean {
    if (running.subscription.closed) return false;
    this.running.delete(running);
    running.subscription.unsubscribe();
    return true;
  }

  /** With `timeoutMs`: aborts the call and hands `expire` its timeout error when the batch takes longer. */
  private armTimeout(job: Job, size: number, running: Running, expire: (error: InferenceTimeoutError) => void): void {
    const { scheduler, timeoutMs } = this.options;
    if (timeoutMs === undefined) return;
    running.subscription.add(
      scheduler.schedule(() => {
        const error = new InferenceTimeoutError(
          `A batch of ${size} took longer than timeoutMs (${timeoutMs} ms) on model '${job.model.id || '(default)'}'.`,
          timeoutMs,
        );
        running.abort.abort(error);
        expire(error);
      }, timeoutMs),
    );
  }

  /** Hands a partial output to its element; an index outside the batch is a bug of the handler: the batch fails. */
  private partial(
    queued: QueuedBatch,
    lo: number,
    batch: readonly unknown[],
    chunk: PartialOutput,
    fail: (error: Error) => void,
  ): void {
    const { onPartial, noBatching, handler } = this.options;
    const { index } = chunk;
    if (!Number.isInteger(index) || index < 0 || index >= batch.length) {
      fail(
        new InferenceError(
          `${handler.constructor.name}.runInference emitted a partial output for element ${String(index)} of a batch of ${batch.length}.`,
          batch.length,
        ),
      );
      return;
    }
    const i = noBatching ? lo : lo + index;
    onPartial?.(queued.tags[i], queued.times[i], chunk.value);
  }

  private completed(
    job: Job,
    lo: number,
    hi: number,
    batch: readonly unknown[],
    outputs: unknown,
    started: number,
    span: BatchSpan | undefined,
  ): void {
    if (!isOutputArray(outputs) || outputs.length !== batch.length) {
      const got = isOutputArray(outputs) ? `${outputs.length} results` : describeValue(outputs);
      const error = new InferenceError(
        `${this.options.handler.constructor.name}.runInference returned ${got} for a batch of ${batch.length}; ` +
          'expected exactly one result per element, in input order.',
        batch.length,
      );
      this.failed(job, lo, hi, batch, error, true, span);
      return;
    }
    span?.end('ok');
    const { onOutputs, onBatchOutputs, onSuccess, metrics, noBatching, clock, handler } = this.options;
    const latency = clock() - started;
    if (metrics !== undefined) {
      this.metricsFor(job.model, batch).recordBatch(batch.length, byteSize(handler, batch), latency);
    }
    onSuccess(batch.length, latency);
    const modelId = job.model.id;
    if (noBatching) {
      onOutputs(job.batch.tags[lo], outputs, modelId);
    } else {
      onBatchOutputs(job.batch, lo, hi, outputs, modelId);
    }
  }

  private failed(
    job: Job,
    lo: number,
    hi: number,
    batch: readonly unknown[],
    error: unknown,
    mayBisect: boolean,
    span: BatchSpan | undefined,
  ): void {
    span?.end('error', error);
    const { metrics, bisect, onFailure } = this.options;
    if (metrics !== undefined) this.metricsFor(job.model, batch).recordFailedBatch();
    if (bisect && mayBisect && hi - lo > 1) {
      const middle = lo + ((hi - lo) >> 1);
      // A stack: the first half is popped (and run) first.
      job.parts.push(middle, hi, lo, middle);
      return;
    }
    const { items, tags } = job.batch;
    // A handler names its element by batch position; the stream position is known here (not with withNoBatching).
    const named = this.options.noBatching ? error : namedInStream(error, tags, lo, hi);
    for (let i = lo; i < hi; i++) {
      onFailure(tags[i], failure('inference', 0, items[i], named, job.original, job.model.id).record);
    }
  }

  private metricsFor(model: LoadedModel<any>, batch: readonly unknown[]): RunInferenceMetrics {
    const metrics = this.options.metrics!;
    const group = this.options.handler.metricsPrefixFor(batch);
    const prefix = (model.prefix ?? '') + (group ?? '');
    return prefix === '' ? metrics : metrics.withPrefix(prefix);
  }
}

/** The handler's size of a batch for metrics; a failing `getNumBytes` override costs the metric (NaN is not recorded), not the batch. */
function byteSize(handler: ModelHandler<any, any, any>, batch: readonly unknown[]): number {
  try {
    return handler.getNumBytes(batch);
  } catch {
    return NaN;
  }
}
