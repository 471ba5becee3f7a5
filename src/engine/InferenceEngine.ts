import { type Observable, type SchedulerLike, type Subscriber, Subscription, takeWhile } from 'rxjs';
import { left, right } from 'fp-ts/lib/Either.js';
import type { BatchKey } from '../batching/BatchElementsConfig.js';
import type { ResolvedBatchConfig } from '../batching/resolveBatchConfig.js';
import { BatchQueue, type GroupState } from '../batching/BatchQueue.js';
import { BatchSizeEstimator } from '../batching/BatchSizeEstimator.js';
import { BufferOverflowError, type ModelLoadError } from '../core/errors.js';
import type { FailedRecord, InferenceArgs, ModelUpdate } from '../core/types.js';
import type { RunInferenceMetrics } from '../metrics/RunInferenceMetrics.js';
import type { ModelHandler, PostprocessFn, PreprocessFn } from '../models/ModelHandler.js';
import { isThenable } from './async.js';
import { BatchRunner, type Envelope } from './BatchRunner.js';
import { Failed, failure } from './Failed.js';
import { ModelSlot } from './ModelSlot.js';
import { ReorderBuffer } from './ReorderBuffer.js';

/** How failures leave the engine: as the stream's error (plain `runInference`) or as `Left` values. */
export type EngineMode = 'throw' | 'either';

/** Everything one engine needs, resolved and validated by the operator. */
export interface EngineOptions {
  readonly handler: ModelHandler<any, any, any>;
  readonly mode: EngineMode;
  readonly ordered: boolean;
  readonly concurrent: number;
  readonly maxBufferedElements: number;
  readonly batch: ResolvedBatchConfig<any>;
  /** Timers (time bounds, timeouts) and the clock of virtual-time tests. */
  readonly scheduler: SchedulerLike;
  /** Where "end of a synchronous burst" is detected: `asapScheduler` unless the user gave a scheduler. */
  readonly burstScheduler: SchedulerLike;
  readonly clock: () => number;
  readonly modelMetadata: Observable<ModelUpdate> | undefined;
  readonly modelIdentifier: string | undefined;
  readonly inferenceArgs: InferenceArgs | undefined;
  readonly timeoutMs: number | undefined;
  readonly onModelLoadError: ((error: ModelLoadError, metadata: ModelUpdate) => void) | undefined;
  readonly metrics: RunInferenceMetrics | undefined;
  readonly bisect: boolean;
}

/** Several outputs of one element (a `withNoBatching` element is a whole batch). */
class Many {
  constructor(readonly values: readonly unknown[]) {}
}

/** What an element turns into: its output, several outputs, or a failure. */
type Entry = unknown;

const DEFAULT_UPDATE: ModelUpdate = { modelId: '', modelName: '' };

/**
 * The engine behind `runInference`, one per subscription: element → preprocess → bounded queue → batch (estimator
 * target, keys, weights) → model slot → split → postprocess → reorder → emit. Failures are values throughout; the
 * mode decides at the very end whether a failure is a `Left` or the stream's error.
 */
export class InferenceEngine {
  private seq = 0;
  private closed = false;
  private sourceDone = false;
  private inFlight = 0;
  private pendingWork = 0;
  private target: number;
  private readonly queue: BatchQueue<Envelope>;
  private readonly estimator: BatchSizeEstimator;
  private readonly reorder: ReorderBuffer<Entry> | undefined;
  private readonly slot: ModelSlot<any>;
  private readonly runner: BatchRunner;
  private readonly pre: readonly PreprocessFn[];
  private readonly post: readonly PostprocessFn[];
  private readonly noBatching: boolean;
  private readonly subscriptions = new Subscription();
  private flushAction: Subscription | undefined;
  private timeBoundAction: Subscription | undefined;

  constructor(
    private readonly options: EngineOptions,
    private readonly subscriber: Subscriber<unknown>,
  ) {
    const { handler, batch } = options;
    this.pre = handler.preprocessFns();
    this.post = handler.postprocessFns();
    this.noBatching = handler.skipBatching();
    this.queue = new BatchQueue<Envelope>({
      batchKeyFn: batch.batchKeyFn && ((e: Envelope) => batch.batchKeyFn!(e.value)),
      elementSizeFn: batch.elementSizeFn && ((e: Envelope) => batch.elementSizeFn!(e.value)),
      maxBatchWeight: batch.maxBatchWeight,
    });
    this.estimator = new BatchSizeEstimator(batch);
    this.target = this.noBatching ? 1 : this.estimator.nextBatchSize();
    this.reorder = options.ordered ? new ReorderBuffer<Entry>((entry) => this.emit(entry)) : undefined;
    this.slot = new ModelSlot({
      handler,
      scheduler: options.scheduler,
      clock: options.clock,
      timeoutMs: options.timeoutMs,
      modelIdentifier: options.modelIdentifier,
      onReady: () => this.pump(true),
      onFatal: (error) => this.fail(error),
      onLoadError: (error, update) => {
        options.metrics?.recordLoadFailure();
        options.onModelLoadError?.(error, update);
      },
      onLoaded: (latencyMs, byteSize, prefix) => {
        const metrics = prefix === undefined ? options.metrics : options.metrics?.withPrefix(prefix);
        metrics?.recordLoad(latencyMs, byteSize);
      },
    });
    this.runner = new BatchRunner({
      handler,
      scheduler: options.scheduler,
      clock: options.clock,
      inferenceArgs: options.inferenceArgs,
      timeoutMs: options.timeoutMs,
      metrics: options.metrics,
      bisect: options.mode === 'either' && options.bisect,
      noBatching: this.noBatching,
      onOutputs: (envelope, output, modelId) => this.postprocess(envelope, output, modelId),
      onFailure: (envelope, record) => this.settle(envelope.seq, new Failed(record)),
      onSuccess: (size, latencyMs) => {
        if (this.noBatching) return;
        this.estimator.recordTime(size, latencyMs);
        this.target = this.estimator.nextBatchSize();
      },
    });
  }

  /** Starts the engine: subscribes to the side input (or loads the default model), then to the source. */
  start(source: Observable<unknown>): void {
    // Registered before anything is subscribed: a synchronous source never returns control before it is cut.
    this.subscriber.add(() => this.teardown());
    const { modelMetadata } = this.options;
    if (modelMetadata === undefined) {
      this.slot.request(DEFAULT_UPDATE);
    } else {
      this.subscriptions.add(
        modelMetadata.subscribe({
          next: (update) => this.slot.request(update),
          error: (error: unknown) => this.fail(error),
        }),
      );
    }
    if (this.closed) return;
    // `takeWhile` lets a synchronous, endless source stop as soon as we are closed (e.g. by a downstream `take`).
    this.subscriptions.add(
      source.pipe(takeWhile(() => !this.closed)).subscribe({
        next: (value) => this.onNext(value),
        error: (error: unknown) => this.fail(error),
        complete: () => {
          this.sourceDone = true;
          this.pump(true);
          this.maybeComplete();
        },
      }),
    );
  }

  private onNext(input: unknown): void {
    this.preprocessFrom(this.seq++, input, input, 0);
  }

  private preprocessLater(
    seq: number,
    input: unknown,
    pending: PromiseLike<unknown>,
    index: number,
    before: unknown,
  ): void {
    this.pendingWork++;
    pending.then(
      (value) => {
        this.pendingWork--;
        if (this.closed) return;
        this.preprocessFrom(seq, input, value, index + 1);
        this.maybeComplete();
      },
      (error: unknown) => {
        this.pendingWork--;
        if (this.closed) return;
        this.settle(seq, failure('preprocess', index, before, error));
        this.maybeComplete();
      },
    );
  }

  /** Runs preprocess functions `from` onwards (after an asynchronous one), then queues the element. */
  private preprocessFrom(seq: number, input: unknown, value: unknown, from: number): void {
    const pre = this.pre;
    let current = value;
    for (let i = from; i < pre.length; i++) {
      const entering = current;
      try {
        current = pre[i](current);
      } catch (error) {
        this.settle(seq, failure('preprocess', i, entering, error));
        return;
      }
      if (isThenable(current)) {
        this.preprocessLater(seq, input, current, i, entering);
        return;
      }
    }
    this.enqueue(seq, input, current);
  }

  private enqueue(seq: number, input: unknown, value: unknown): void {
    const { maxBufferedElements } = this.options;
    if (this.queue.length >= maxBufferedElements) {
      const error = new BufferOverflowError(
        `runInference queued ${maxBufferedElements} elements (maxBufferedElements) while the model was busy or loading; ` +
          `element ${seq} does not fit. Raise maxBufferedElements, or slow the source down.`,
        maxBufferedElements,
      );
      if (this.options.mode === 'throw') this.fail(error);
      else this.settle(seq, failure('inference', 0, value, error));
      return;
    }
    const envelope: Envelope = { seq, input, value, at: this.options.clock() };
    let group: GroupState;
    try {
      group = this.queue.push(envelope);
    } catch (error) {
      // A batch key or element size function threw: the element cannot be batched.
      this.settle(seq, failure('inference', 0, value, error));
      return;
    }
    if (this.inFlight >= this.options.concurrent || this.slot.model === undefined) return;
    if (group.count >= this.target || group.weight >= this.options.batch.maxBatchWeight) {
      this.dispatch(group.key);
    } else if (this.options.batch.maxBatchDurationMs === undefined) {
      this.scheduleFlush();
    } else {
      this.pump(false);
    }
  }

  /** Runs batches while slots and elements are available. `partial`: take what is queued even below the target. */
  private pump(partial: boolean): void {
    const { concurrent, batch } = this.options;
    while (!this.closed && this.inFlight < concurrent && this.queue.length > 0 && this.slot.model !== undefined) {
      const key = this.queue.oldestKey();
      const group = this.queue.group(key)!;
      const full = group.count >= this.target || group.weight >= batch.maxBatchWeight;
      if (!full && !partial && !this.sourceDone) {
        if (batch.maxBatchDurationMs === undefined) {
          this.scheduleFlush();
          return;
        }
        if (!this.timeBoundExpired(key, batch.maxBatchDurationMs)) return;
      }
      this.dispatch(key);
    }
  }

  /** With a time bound: whether the oldest element has waited long enough; if not, a timer wakes us then. */
  private timeBoundExpired(key: BatchKey, bound: number): boolean {
    const oldest = this.queue.peek(key);
    if (oldest === undefined) return false;
    const wait = oldest.at + bound - this.options.clock();
    if (wait <= 0) return true;
    if (this.timeBoundAction === undefined || this.timeBoundAction.closed) {
      this.timeBoundAction = this.options.scheduler.schedule(() => {
        this.timeBoundAction = undefined;
        this.pump(false);
      }, wait);
      this.subscriptions.add(this.timeBoundAction);
    }
    return false;
  }

  private scheduleFlush(): void {
    if (this.flushAction !== undefined && !this.flushAction.closed) return;
    this.flushAction = this.options.burstScheduler.schedule(() => {
      this.flushAction = undefined;
      this.pump(true);
    });
    this.subscriptions.add(this.flushAction);
  }

  private dispatch(key: BatchKey): void {
    const model = this.slot.model!;
    const envelopes = this.queue.take(this.target, key);
    if (envelopes.length === 0) return;
    if (!this.noBatching) this.target = this.estimator.nextBatchSize();
    this.inFlight++;
    this.slot.retain(model);
    this.runner.run(envelopes, model, () => {
      this.inFlight--;
      this.slot.finish(model);
      if (this.closed) return;
      this.pump(this.options.batch.maxBatchDurationMs === undefined);
      this.maybeComplete();
    });
  }

  private postprocess(envelope: Envelope, output: unknown, modelId: string): void {
    if (this.noBatching) {
      const outputs = output as readonly unknown[];
      const results = new Array<unknown>(outputs.length);
      let waiting: PromiseLike<unknown>[] | undefined;
      for (let i = 0; i < outputs.length; i++) {
        const result = this.applyPost(outputs[i], modelId);
        if (isThenable(result)) (waiting ??= []).push(result.then((r) => (results[i] = r)));
        else results[i] = result;
      }
      if (waiting === undefined) this.settle(envelope.seq, new Many(results));
      else
        this.settleLater(
          envelope.seq,
          Promise.all(waiting).then(() => new Many(results)),
        );
      return;
    }
    const result = this.applyPost(output, modelId);
    if (isThenable(result)) this.settleLater(envelope.seq, result);
    else this.settle(envelope.seq, result);
  }

  /**
   * Runs the postprocess functions from `from` on (the first call: all of them) on one output: the final value, a
   * Promise of it (after an asynchronous function), or a `Failed`.
   */
  private applyPost(output: unknown, modelId: string, from = 0): unknown {
    const post = this.post;
    let value = output;
    for (let j = from; j < post.length; j++) {
      const before = value;
      try {
        value = post[j](value);
      } catch (error) {
        return failure('postprocess', j, before, error, undefined, modelId);
      }
      if (isThenable(value)) {
        return Promise.resolve(value).then(
          (resolved) => this.applyPost(resolved, modelId, j + 1),
          (error: unknown) => failure('postprocess', j, before, error, undefined, modelId),
        );
      }
    }
    return value;
  }

  private settleLater(seq: number, pending: PromiseLike<unknown>): void {
    this.pendingWork++;
    pending.then((entry) => {
      this.pendingWork--;
      if (this.closed) return;
      this.settle(seq, entry);
      this.maybeComplete();
    });
  }

  /** An element is done (output, outputs or failure): emit it now or when its turn comes. */
  private settle(seq: number, entry: Entry): void {
    if (this.closed) return;
    if (this.reorder === undefined) this.emit(entry);
    else this.reorder.offer(seq, entry);
  }

  private emit(entry: Entry): void {
    if (this.closed) return;
    const subscriber = this.subscriber;
    const either = this.options.mode === 'either';
    if (entry instanceof Failed) {
      if (either) subscriber.next(left(entry.record));
      else this.fail(entry.record.error);
    } else if (entry instanceof Many) {
      for (const value of entry.values) {
        if (this.closed) return;
        if (value instanceof Failed) {
          if (either) subscriber.next(left(value.record));
          else this.fail(value.record.error);
        } else {
          subscriber.next(either ? right(value) : value);
        }
      }
    } else {
      subscriber.next(either ? right(entry) : entry);
    }
  }

  private maybeComplete(): void {
    if (
      this.closed ||
      !this.sourceDone ||
      this.queue.length > 0 ||
      this.inFlight > 0 ||
      this.pendingWork > 0 ||
      (this.reorder !== undefined && this.reorder.size > 0)
    ) {
      return;
    }
    // The model is released before completion is delivered downstream.
    this.teardown();
    this.subscriber.complete();
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    this.teardown();
    this.subscriber.error(error);
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscriptions.unsubscribe();
    this.runner.abortAll();
    this.queue.clear();
    this.reorder?.clear();
    this.slot.dispose();
  }
}

/** Re-exported for the operators: builds a `FailedRecord`. */
export type { FailedRecord };
