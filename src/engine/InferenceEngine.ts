import { forkJoin, type Observable, of, type SchedulerLike, type Subscriber, Subscription, takeWhile } from 'rxjs';
import type { BatchKey } from '../batching/BatchElementsConfig.js';
import type { ResolvedBatchConfig } from '../batching/resolveBatchConfig.js';
import { BatchQueue, type GroupState } from '../batching/BatchQueue.js';
import { BatchSizeEstimator } from '../batching/BatchSizeEstimator.js';
import {
  BufferOverflowError,
  describeValue,
  InferenceTimeoutError,
  InvalidExampleError,
  type ModelLoadError,
  toError,
} from '../core/errors.js';
import type { InferenceArgs, ModelUpdate } from '../core/types.js';
import type { RunInferenceMetrics } from '../metrics/RunInferenceMetrics.js';
import type { ModelHandler, PostprocessFn, PreprocessFn } from '../models/ModelHandler.js';
import { BatchRunner, type Envelope } from './BatchRunner.js';
import type { TracerLike } from './BatchSpan.js';
import { applyFunctions, Pending } from './applyFunctions.js';
import { hintPromiseInVirtualTime } from './virtualTimeHint.js';
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
  private pendingWork = 0;
  private target: number;
  private readonly queue: BatchQueue<Envelope>;
  private readonly estimator: BatchSizeEstimator;
  private readonly emitter: Emitter | StreamEmitter;
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
      onOutputs: (envelope, output, modelId) => this.postprocess(envelope, output, modelId),
      onBatchOutputs: (part, outputs, modelId) => this.postprocessBatch(part, outputs, modelId),
      onFailure: (envelope, record) => this.settle(envelope.seq, new Failed(record)),
      onPartial:
        this.emitter instanceof StreamEmitter
          ? (envelope, value) => {
              if (!this.closed) (this.emitter as StreamEmitter).partial(envelope.seq, envelope.at, value);
            }
          : undefined,
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
    // `takeWhile` lets a synchronous, endless source stop as soon as we are closed (e.g. by a downstream `take`), or
    // as soon as we stop accepting (a plain-mode overflow).
    this.subscriptions.add(
      source.pipe(takeWhile(() => !this.closed && this.ending === undefined)).subscribe({
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
      this.later(seq, 'preprocess', value, (v) => (Failed.is(v) ? this.settle(seq, v) : this.enqueue(seq, input, v)));
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
      this.timeBoundAction = scheduleOwned(
        this.subscriptions,
        this.options.scheduler,
        () => {
          this.timeBoundAction = undefined;
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
      this.pump(true);
    });
  }

  private dispatch(key: BatchKey): void {
    const model = this.slot.model!;
    let envelopes = this.queue.takeFrom(key, this.batchSizeFor(key));
    let dropped: { seq: number; entry: Failed }[] | undefined;
    if (this.options.elementSignal !== undefined) {
      // Aborted elements leave here, before the model sees them; if a whole batch was aborted, take the next one.
      dropped = [];
      envelopes = this.withoutAborted(envelopes, dropped);
      while (envelopes.length === 0 && this.queue.group(key) !== undefined) {
        envelopes = this.withoutAborted(this.queue.takeFrom(key, this.target), dropped);
      }
    }
    if (envelopes.length > 0) this.run(envelopes, model);
    // Settled once the batch is under way, so that a subscriber reacting to them finds the engine consistent.
    if (dropped !== undefined) for (const { seq, entry } of dropped) this.settle(seq, entry);
  }

  /** The envelopes whose `elementSignal` has not aborted; the others go to `dropped` as failures. */
  private withoutAborted(envelopes: Envelope[], dropped: { seq: number; entry: Failed }[]): Envelope[] {
    const signalOf = this.options.elementSignal!;
    let kept: Envelope[] | undefined;
    for (let i = 0; i < envelopes.length; i++) {
      const envelope = envelopes[i];
      let reason: unknown;
      let aborted = false;
      try {
        const signal = signalOf(envelope.input, envelope.seq);
        if (signal?.aborted === true) {
          aborted = true;
          reason = signal.reason;
        }
      } catch (thrown) {
        aborted = true;
        reason = thrown;
      }
      if (aborted) {
        kept ??= envelopes.slice(0, i);
        const record = { stage: 'inference' as const, index: 0, element: envelope.value, error: toError(reason) };
        dropped.push({ seq: envelope.seq, entry: new Failed(record) });
      } else {
        kept?.push(envelope);
      }
    }
    return kept ?? envelopes;
  }

  private run(envelopes: Envelope[], model: LoadedModel<any>): void {
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

  /** A whole part of a batch succeeded: without postprocessing, its outputs go straight to the emitter. */
  private postprocessBatch(part: readonly Envelope[], outputs: readonly unknown[], modelId: string): void {
    if (this.noBatching || this.post.length > 0) {
      for (let i = 0; i < part.length; i++) this.postprocess(part[i], outputs[i], modelId);
      return;
    }
    if (this.closed) return;
    if (this.emitter instanceof Emitter) this.emitter.settleOutputs(part, outputs);
    else for (let i = 0; i < part.length; i++) this.emitter.settle(part[i].seq, outputs[i]);
  }

  /**
   * The size of the next batch of group `key`: the estimator's target — except at the start, where a burst already
   * queued does not wait for Beam's ramp (1, 2, 4, …: one model call per doubling, which dominated short jobs; issue
   * 11). Once the estimator has its first point, a group holding more than twice the target goes whole (up to
   * `maxBatchSize`): the fit gets a small and a large size at once, and later targets grow from there.
   */
  private batchSizeFor(key: BatchKey): number {
    const target = this.target;
    if (this.noBatching || this.estimator.dataPoints !== 1) return target;
    const queued = this.queue.group(key)?.count ?? 0;
    return queued > 2 * target ? Math.min(queued, this.options.batch.maxBatchSize) : target;
  }

  private postprocess(envelope: Envelope, output: unknown, modelId: string): void {
    const seq = envelope.seq;
    if (this.post.length === 0) {
      this.settle(seq, this.noBatching ? new Many(output as readonly unknown[]) : output);
      return;
    }
    if (!this.noBatching) {
      const result = applyFunctions('postprocess', this.post, output, modelId);
      if (Pending.is(result)) this.later(seq, 'postprocess', result, (r) => this.settle(seq, r));
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
    this.later(seq, 'postprocess', new Pending(all, pending.index, pending.element, viaPromise), (values) =>
      this.settle(seq, new Many(values as unknown[])),
    );
  }

  /**
   * Continues with `then` once asynchronous pre/postprocessing settles, unless closed by then. With `timeoutMs` it is
   * bounded like a batch: past it the element fails (a Promise that never settles must not stall the stream).
   */
  private later(
    seq: number,
    stage: 'preprocess' | 'postprocess',
    pending: Pending,
    then: (value: unknown) => void,
  ): void {
    const { timeoutMs, scheduler } = this.options;
    this.pendingWork++;
    let done = false;
    let timer: Subscription | undefined;
    // Owned while it runs, dropped once settled (a long-lived stream keeps no subscription per element); a timeout
    // unsubscribes it, so an Observable still running stops.
    const subscription = new Subscription();
    const finish = (outcome: () => void): void => {
      if (done) return;
      done = true;
      this.pendingWork--;
      timer?.unsubscribe();
      this.subscriptions.remove(subscription);
      subscription.unsubscribe();
      if (this.closed) return;
      outcome();
      this.maybeComplete();
    };
    if (pending.viaPromise) hintPromiseInVirtualTime(stage, scheduler);
    this.subscriptions.add(subscription);
    subscription.add(pending.outcome.subscribe((value) => finish(() => then(value))));
    if (timeoutMs !== undefined && !done) {
      timer = scheduleOwned(
        this.subscriptions,
        scheduler,
        () => {
          const which = stage === 'preprocess' ? 'Preprocess' : 'Postprocess';
          const error = new InferenceTimeoutError(
            `${which} function ${pending.index} took longer than timeoutMs (${timeoutMs} ms) on element ${seq}.`,
            timeoutMs,
          );
          finish(() => this.settle(seq, failure(stage, pending.index, pending.element, error)));
        },
        timeoutMs,
      );
    }
  }

  /** An element is done (output, outputs or failure): emit it now or when its turn comes. */
  private settle(seq: number, entry: unknown): void {
    if (!this.closed) this.emitter.settle(seq, entry);
  }

  private maybeComplete(): void {
    if (
      this.closed ||
      !this.sourceDone ||
      this.queue.length > 0 ||
      this.inFlight > 0 ||
      this.pendingWork > 0 ||
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
    this.subscriptions.unsubscribe();
    this.runner.abortAll();
    this.queue.clear();
    this.emitter.clear();
    this.slot.dispose();
  }
}
