import { type Observable, Subject, type Subscriber, Subscription, takeUntil } from 'rxjs';
import type { BatchKey } from '../batching/BatchElementsConfig.js';
import { BatchQueue, type GroupState } from '../batching/BatchQueue.js';
import { BatchPolicy } from '../batching/BatchPolicy.js';
import type { PreprocessFn } from '../models/ModelHandler.js';
import { notABatchError, overflowError } from './admissionErrors.js';
import { applyFunctions, Pending } from './applyFunctions.js';
import { ArrivalClock } from './ArrivalClock.js';
import type { BatchRunner, QueuedBatch } from './BatchRunner.js';
import { engineBatchRunner } from './engineBatchRunner.js';
import { type Dropped, takeUnaborted } from './dropAborted.js';
import { Emitter, Many } from './Emitter.js';
import type { EngineOptions } from './EngineOptions.js';
import { engineModelSlot } from './engineModelSlot.js';
import { Failed, failure } from './Failed.js';
import type { LoadedModel, ModelSlot } from './ModelSlot.js';
import { PendingWork } from './PendingWork.js';
import { Postprocessor } from './Postprocessor.js';
import { FlushTimers } from './FlushTimers.js';
import { StreamEmitter } from './StreamEmitter.js';

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
  private readonly outputs: Postprocessor;
  private readonly noBatching: boolean;
  private readonly subscriptions = new Subscription();
  /** Fired when no more source elements are accepted (closed, or ending). */
  private readonly stop = new Subject<void>();
  private readonly timers: FlushTimers;

  constructor(
    private readonly options: EngineOptions,
    private readonly subscriber: Subscriber<unknown>,
  ) {
    const { handler, batch } = options;
    this.pre = handler.preprocessFns();
    this.noBatching = handler.skipBatching();
    this.queue = new BatchQueue<unknown>({ ...batch, tagged: true });
    this.policy = new BatchPolicy(batch, { single: this.noBatching, wholeBurst: true });
    this.arrival = ArrivalClock.forEngine(options);
    this.timers = new FlushTimers(this.subscriptions, options.scheduler, options.burstScheduler);
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
    this.slot = engineModelSlot(options, {
      ready: () => this.pump(true),
      fail: (error) => this.fail(error),
    });
    this.outputs = new Postprocessor(handler.postprocessFns(), this.noBatching, this.pending, this.emitter, {
      closed: () => this.closed,
      settle: (seq, entry) => this.settle(seq, entry),
    });
    this.runner = engineBatchRunner(options, this.noBatching, {
      onOutputs: (seq, outputs, modelId) => this.outputs.ofBatchElement(seq, outputs, modelId),
      onBatchOutputs: (queued, lo, hi, outputs, modelId) => this.outputs.ofBatch(queued, lo, hi, outputs, modelId),
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
      this.slot.request({ modelId: '', modelName: '' }); // the handler's default model
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
    // No preprocessing: nothing to test (a source's value is never the engine's own `Failed` or `Pending`).
    if (this.pre.length === 0) return this.enqueue(seq, input, input);
    // Elements are values: nothing is read from one here (it may be a revoked Proxy, or have a `then` method).
    const value = applyFunctions('preprocess', this.pre, input);
    if (Failed.is(value)) this.settle(seq, value);
    else if (Pending.is(value))
      this.pending.await(seq, 'preprocess', value, (v) =>
        Failed.is(v) ? this.settle(seq, v) : this.enqueue(seq, input, v),
      );
    else this.enqueue(seq, input, value);
  }

  private enqueue(seq: number, input: unknown, value: unknown): void {
    if (this.queue.length >= this.options.maxBufferedElements) {
      const error = overflowError(seq, this.options.maxBufferedElements);
      if (this.options.mode === 'throw') {
        // Not accepted: it takes no place in the output order; what was accepted before it still comes out.
        this.settle(seq, new Many([]));
        this.endWith(error);
      } else {
        this.settle(seq, failure('inference', 0, value, error));
      }
      return;
    }
    const notABatch = this.noBatching ? notABatchError(seq, value) : undefined;
    if (notABatch !== undefined) {
      this.settle(seq, failure('inference', 0, value, notABatch));
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
    if (this.inFlight >= this.options.concurrent || this.slot.model === undefined) {
      // Busy: nothing to run now, but a run of arrival stamps must still end with this burst (`ArrivalClock`).
      if (this.arrival.inRuns) this.scheduleFlush();
      return;
    }
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
    this.timers.after(wait, () => {
      this.arrival.invalidate();
      this.pump(false);
    });
    return false;
  }

  private scheduleFlush(): void {
    this.timers.atBurstEnd(this.flushAtBurstEnd);
  }

  /** The end-of-burst flush: one function for the engine's life (scheduleFlush is asked for it per element). */
  private readonly flushAtBurstEnd = (): void => {
    this.arrival.invalidate();
    this.pump(true);
  };

  private dispatch(key: BatchKey): void {
    const model = this.slot.model!;
    const size = this.policy.sizeFor(this.queue.group(key)?.count ?? 0);
    const signalOf = this.options.elementSignal;
    let batch: QueuedBatch | undefined;
    let dropped: Dropped[] | undefined;
    if (signalOf === undefined) {
      batch = this.queue.takeTagged(key, size);
    } else {
      // Aborted elements leave here, before the model sees them.
      dropped = [];
      batch = takeUnaborted(this.queue, key, [size, this.policy.target], signalOf, this.inputs, dropped);
    }
    if (batch !== undefined) this.run(batch, model);
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

  /** An element is done (output, outputs or failure): emit it now or when its turn comes. */
  private settle(seq: number, entry: unknown): void {
    if (this.closed) return;
    this.emitter.settle(seq, entry);
    this.arrival.invalidate();
  }

  private maybeComplete(): void {
    const busy = this.queue.length > 0 || this.inFlight > 0 || this.pending.count > 0 || this.emitter.waiting > 0;
    if (this.closed || !this.sourceDone || busy) return;
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
