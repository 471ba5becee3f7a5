import {
  forkJoin,
  type Observable,
  of,
  type SchedulerLike,
  Subject,
  type Subscriber,
  Subscription,
  takeUntil,
} from 'rxjs';
import type { BatchKey } from '../batching/BatchElementsConfig.js';
import type { ResolvedBatchConfig } from '../batching/resolveBatchConfig.js';
import { BatchQueue, type GroupState } from '../batching/BatchQueue.js';
import { BatchPolicy } from '../batching/BatchPolicy.js';
import { BufferOverflowError, describeValue, InvalidExampleError, type ModelLoadError } from '../core/errors.js';
import type { InferenceArgs, ModelUpdate } from '../core/types.js';
import type { RunInferenceMetrics } from '../metrics/RunInferenceMetrics.js';
import type { ModelHandler, PostprocessFn, PreprocessFn } from '../models/ModelHandler.js';
import { BatchRunner, type QueuedBatch } from './BatchRunner.js';
import type { TracerLike } from './BatchSpan.js';
import { applyFunctions, Pending } from './applyFunctions.js';
import { ArrivalClock, type ArrivalMode } from './ArrivalClock.js';
import { dropAborted, type Dropped } from './dropAborted.js';
import { PendingWork } from './PendingWork.js';
import { isOutputArray } from '../models/inferenceOutputs.js';
import { Failed, failure } from './Failed.js';
import { type LoadedModel, ModelSlot } from './ModelSlot.js';
import { scheduleOwned } from './scheduleOwned.js';
import { Emitter, type EngineMode, Many } from './Emitter.js';
import { StreamEmitter } from './StreamEmitter.js';

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
  /** `clock` is a user scheduler's `now()` (virtual time in tests): arrival times are read per element. */
  readonly schedulerClock: boolean;
  readonly modelMetadata: Observable<ModelUpdate> | undefined;
  readonly modelIdentifier: string | undefined;
  readonly inferenceArgs: InferenceArgs | undefined;
  readonly timeoutMs: number | undefined;
  readonly onModelLoadError: ((error: ModelLoadError, metadata: ModelUpdate) => void) | undefined;
  readonly onModelLoad: ((modelId: string) => void) | undefined;
  readonly metrics: RunInferenceMetrics | undefined;
  /** A span per model call where a tracer is configured. */
  readonly tracer?: TracerLike;
  readonly bisect: boolean;
  /** `streamInference`: partial outputs are delivered, results come as `end` events. */
  readonly stream?: boolean;
  /** An element whose signal has aborted when its batch is formed is taken out and fails with the signal's reason. */
  readonly elementSignal: ((element: unknown, index: number) => AbortSignal | undefined) | undefined;
}

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
  /** The source's error (or a plain-mode overflow), delivered once what was accepted before it is done (#13 item 7). */
  private ending: { readonly error: unknown } | undefined;
  private inFlight = 0;
  private readonly queue: BatchQueue<unknown>;
  private readonly policy: BatchPolicy;
  private readonly arrival: ArrivalClock;
  private readonly pending: PendingWork;
  /** Each queued element's input as given, by sequence number: only with an `elementSignal` and preprocessing. */
  private readonly inputs: Map<number, unknown> | undefined;
  private readonly emitter: Emitter | StreamEmitter;
  private readonly slot: ModelSlot<any>;
  private readonly runner: BatchRunner;
  private readonly pre: readonly PreprocessFn[];
  private readonly post: readonly PostprocessFn[];
  private readonly noBatching: boolean;
  private readonly subscriptions = new Subscription();
  /** Fired when no more source elements are accepted (closed, or ending). */
  private readonly stop = new Subject<void>();
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
    this.queue = new BatchQueue<unknown>({
      batchKeyFn: batch.batchKeyFn,
      elementSizeFn: batch.elementSizeFn,
      maxBatchWeight: batch.maxBatchWeight,
      tagged: true,
    });
    this.policy = new BatchPolicy(batch, { single: this.noBatching, wholeBurst: true });
    this.arrival = new ArrivalClock(options.clock, arrivalMode(options), options.burstScheduler, this.subscriptions);
    this.pending = new PendingWork({
      owner: this.subscriptions,
      scheduler: options.scheduler,
      timeoutMs: options.timeoutMs,
      closed: () => this.closed,
      settled: () => this.maybeComplete(),
      fail: (seq, entry) => this.settle(seq, entry),
    });
    if (options.elementSignal !== undefined && this.pre.length > 0) this.inputs = new Map();
    const fail = (error: Error) => this.fail(error);
    this.emitter = options.stream
      ? new StreamEmitter(options.mode, options.ordered, subscriber, fail, options.clock, options.metrics)
      : new Emitter(options.mode, options.ordered, subscriber, fail);
    this.slot = new ModelSlot({
      handler,
      scheduler: options.scheduler,
      clock: options.clock,
      timeoutMs: options.timeoutMs,
      modelIdentifier: options.modelIdentifier,
      onReady: () => {
        try {
          options.onModelLoad?.(this.slot.model!.id);
        } catch (thrown) {
          this.fail(thrown);
          return;
        }
        this.pump(true);
      },
      onFatal: (error) => this.fail(error),
      onLoadError: (error, update) => {
        options.metrics?.recordLoadFailure();
        try {
          options.onModelLoadError?.(error, update);
        } catch (thrown) {
          // A throwing callback is a bug in the pipeline: it ends the stream rather than the process.
          this.fail(thrown);
        }
      },
      onLoaded: (latencyMs, byteSize, prefix, device) => {
        const metrics = prefix === undefined ? options.metrics : options.metrics?.withPrefix(prefix);
        metrics?.recordLoad(latencyMs, byteSize);
        if (device !== undefined) metrics?.recordDevice(device);
      },
    });
    this.runner = new BatchRunner({
      handler,
      scheduler: options.scheduler,
      clock: options.clock,
      inferenceArgs: options.inferenceArgs,
      timeoutMs: options.timeoutMs,
      metrics: options.metrics,
      tracer: options.tracer,
      bisect: options.mode === 'either' && options.bisect,
      noBatching: this.noBatching,
      onOutputs: (seq, outputs, modelId) => this.postprocess(seq, outputs, modelId),
      onBatchOutputs: (queued, lo, hi, outputs, modelId) => this.postprocessBatch(queued, lo, hi, outputs, modelId),
      onFailure: (seq, record) => this.settle(seq, new Failed(record)),
      onPartial:
        this.emitter instanceof StreamEmitter
          ? (seq, arrivedAt, value) => {
              if (!this.closed) (this.emitter as StreamEmitter).partial(seq, arrivedAt, value);
            }
          : undefined,
      onSuccess: (size, latencyMs) => this.policy.record(size, latencyMs),
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
    // `stop` lets a synchronous, endless source stop as soon as we are closed (e.g. by a downstream `take`), or as
    // soon as we stop accepting (a plain-mode overflow): `takeUntil` closes the source's subscriber at once. It adds
    // no step per element (the source delivers straight to the observer below), where `takeWhile` added one.
    this.subscriptions.add(
      source.pipe(takeUntil(this.stop)).subscribe({
        next: (value) => this.onNext(value),
        error: (error: unknown) => this.endWith(error),
        complete: () => {
          this.sourceDone = true;
          this.pump(true);
          this.maybeComplete();
        },
      }),
    );
  }

  private onNext(input: unknown): void {
    const seq = this.seq++;
    // Elements are values: nothing is read from one here (it may be a revoked Proxy, or have a `then` method).
    const value = this.pre.length === 0 ? input : applyFunctions('preprocess', this.pre, input);
    if (Failed.is(value)) this.settle(seq, value);
    else if (Pending.is(value))
      this.pending.await(seq, 'preprocess', value, (v) =>
        Failed.is(v) ? this.settle(seq, v) : this.enqueue(seq, input, v),
      );
    else this.enqueue(seq, input, value);
  }

  private enqueue(seq: number, input: unknown, value: unknown): void {
    const { maxBufferedElements } = this.options;
    if (this.queue.length >= maxBufferedElements) {
      const error = new BufferOverflowError(
        `runInference queued ${maxBufferedElements} elements (maxBufferedElements) while the model was busy or loading; ` +
          `element ${seq} does not fit. Raise maxBufferedElements, or slow the source down.`,
        maxBufferedElements,
      );
      if (this.options.mode === 'throw') {
        // Not accepted: it takes no place in the output order; what was accepted before it still comes out.
        this.settle(seq, new Many([]));
        this.endWith(error);
      } else {
        this.settle(seq, failure('inference', 0, value, error));
      }
      return;
    }
    if (this.noBatching && !(isOutputArray(value) && value.length > 0)) {
      const error = new InvalidExampleError(
        `Element ${seq} is ${isOutputArray(value) ? 'an empty batch' : `not a batch: ${describeValue(value)}`}; ` +
          'with withNoBatching() every element must be a non-empty array of examples.',
        undefined,
        undefined,
      );
      this.settle(seq, failure('inference', 0, value, error));
      return;
    }
    let group: GroupState;
    try {
      group = this.queue.push(value, seq, this.arrival.now());
    } catch (error) {
      // A batch key or element size function threw: the element cannot be batched.
      this.settle(seq, failure('inference', 0, value, error));
      return;
    }
    this.inputs?.set(seq, input);
    if (this.inFlight >= this.options.concurrent || this.slot.model === undefined) return;
    if (this.policy.isFull(group)) {
      this.dispatch(group.key);
    } else if (this.policy.timeBoundMs === undefined) {
      this.scheduleFlush();
    } else {
      this.pump(false);
    }
  }

  /** Runs batches while slots and elements are available. `partial`: take what is queued even below the target. */
  private pump(partial: boolean): void {
    const { concurrent } = this.options;
    while (!this.closed && this.inFlight < concurrent && this.queue.length > 0 && this.slot.model !== undefined) {
      const key = this.queue.oldestKey();
      if (!partial && !this.sourceDone && !this.policy.isFull(this.queue.group(key)!)) {
        if (this.policy.timeBoundMs === undefined) {
          this.scheduleFlush();
          return;
        }
        if (!this.timeBoundExpired(key)) return;
      }
      this.dispatch(key);
    }
  }

  /** With a time bound: whether the oldest element has waited long enough; if not, a timer wakes us then. */
  private timeBoundExpired(key: BatchKey): boolean {
    const arrivedAt = this.queue.headTime(key);
    if (arrivedAt === undefined) return false;
    const wait = this.policy.waitMs(arrivedAt, this.options.clock());
    if (wait <= 0) return true;
    if (this.timeBoundAction === undefined || this.timeBoundAction.closed) {
      this.timeBoundAction = scheduleOwned(
        this.subscriptions,
        this.options.scheduler,
        () => {
          this.timeBoundAction = undefined;
          this.arrival.invalidate();
          this.pump(false);
        },
        wait,
      );
    }
    return false;
  }

  private scheduleFlush(): void {
    if (this.flushAction !== undefined && !this.flushAction.closed) return;
    this.flushAction = scheduleOwned(this.subscriptions, this.options.burstScheduler, () => {
      this.flushAction = undefined;
      this.arrival.invalidate();
      this.pump(true);
    });
  }

  private dispatch(key: BatchKey): void {
    const model = this.slot.model!;
    let batch = this.queue.takeTagged(key, this.policy.sizeFor(this.queue.group(key)?.count ?? 0));
    let dropped: Dropped[] | undefined;
    const signalOf = this.options.elementSignal;
    if (signalOf !== undefined) {
      // Aborted elements leave here, before the model sees them; if a whole batch was aborted, take the next one.
      dropped = [];
      while (batch !== undefined) {
        const taken = batch;
        const inputs = this.inputs;
        const inputOf = inputs === undefined ? (i: number) => taken.items[i] : (i: number) => inputs.get(taken.tags[i]);
        batch = dropAborted(taken, signalOf, inputOf, dropped);
        if (inputs !== undefined) for (const seq of taken.tags) inputs.delete(seq);
        if (batch.items.length > 0) break;
        batch = this.queue.takeTagged(key, this.policy.target);
      }
    }
    if (batch !== undefined && batch.items.length > 0) this.run(batch, model);
    this.arrival.invalidate();
    // Settled once the batch is under way, so that a subscriber reacting to them finds the engine consistent.
    if (dropped !== undefined) for (const { seq, entry } of dropped) this.settle(seq, entry);
  }

  private run(batch: QueuedBatch, model: LoadedModel<any>): void {
    this.policy.next();
    this.inFlight++;
    this.slot.retain(model);
    this.runner.run(batch, model, () => {
      this.inFlight--;
      this.slot.finish(model);
      if (this.closed) return;
      this.arrival.invalidate();
      this.pump(this.policy.timeBoundMs === undefined);
      this.maybeComplete();
    });
  }

  /** Elements `[lo, hi)` of a batch succeeded: without postprocessing, their outputs go straight to the emitter. */
  private postprocessBatch(batch: QueuedBatch, lo: number, hi: number, outputs: readonly unknown[], id: string): void {
    const seqs = batch.tags;
    if (this.post.length > 0) {
      for (let i = lo; i < hi; i++) this.postprocess(seqs[i], outputs[i - lo], id);
      return;
    }
    if (this.closed) return;
    if (this.emitter instanceof Emitter) this.emitter.settleOutputs(seqs, lo, hi, outputs);
    else for (let i = lo; i < hi; i++) this.emitter.settle(seqs[i], outputs[i - lo]);
  }

  private postprocess(seq: number, output: unknown, modelId: string): void {
    if (this.post.length === 0) {
      this.settle(seq, this.noBatching ? new Many(output as readonly unknown[]) : output);
      return;
    }
    if (!this.noBatching) {
      const result = applyFunctions('postprocess', this.post, output, modelId);
      if (Pending.is(result)) this.pending.await(seq, 'postprocess', result, (r) => this.settle(seq, r));
      else this.settle(seq, result);
      return;
    }
    const results = (output as readonly unknown[]).map((o) => applyFunctions('postprocess', this.post, o, modelId));
    const pending = results.find(Pending.is);
    if (pending === undefined) {
      this.settle(seq, new Many(results));
      return;
    }
    const all = forkJoin(results.map((r) => (Pending.is(r) ? r.outcome : of(r))));
    const viaPromise = results.some((r) => Pending.is(r) && r.viaPromise);
    this.pending.await(seq, 'postprocess', new Pending(all, pending.index, pending.element, viaPromise), (values) =>
      this.settle(seq, new Many(values as unknown[])),
    );
  }

  /** An element is done (output, outputs or failure): emit it now or when its turn comes. */
  private settle(seq: number, entry: unknown): void {
    if (this.closed) return;
    this.emitter.settle(seq, entry);
    this.arrival.invalidate();
  }

  private maybeComplete(): void {
    if (
      this.closed ||
      !this.sourceDone ||
      this.queue.length > 0 ||
      this.inFlight > 0 ||
      this.pending.count > 0 ||
      this.emitter.waiting > 0
    ) {
      return;
    }
    // The model is released before completion (or the source's error) is delivered downstream.
    this.teardown();
    if (this.ending !== undefined) this.subscriber.error(this.ending.error);
    else this.subscriber.complete();
  }

  /**
   * The source rule (#13 item 7): after a source error — or a plain-mode overflow — nothing more is accepted, and
   * every element accepted before it is completed (its result, or its failure record in exception mode) before the
   * error goes downstream. An element's own failure in plain mode still ends the stream at its turn, as always.
   */
  private endWith(error: unknown): void {
    if (this.closed || this.ending !== undefined) return;
    this.ending = { error };
    this.sourceDone = true;
    this.stop.next();
    this.pump(true);
    this.maybeComplete();
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    this.teardown();
    this.subscriber.error(error);
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop.next();
    this.subscriptions.unsubscribe();
    this.runner.abortAll();
    this.queue.clear();
    this.inputs?.clear();
    this.emitter.clear();
    this.slot.dispose();
  }
}

/** How arrival times are read (see `ArrivalClock`): exactly where time decides behaviour or is virtual. */
function arrivalMode(options: EngineOptions): ArrivalMode {
  if (options.batch.maxBatchDurationMs !== undefined) return 'exact';
  if (options.metrics === undefined && options.stream !== true) return 'off';
  return options.schedulerClock ? 'exact' : 'run';
}
