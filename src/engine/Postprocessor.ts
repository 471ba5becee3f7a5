import { forkJoin, of } from 'rxjs';
import type { PostprocessFn } from '../models/ModelHandler.js';
import { applyFunctions, Pending } from './applyFunctions.js';
import type { QueuedBatch } from './BatchRunner.js';
import { Emitter, Many } from './Emitter.js';
import { Failed } from './Failed.js';
import type { PendingWork } from './PendingWork.js';
import type { StreamEmitter } from './StreamEmitter.js';

/** What the `Postprocessor` needs from its engine. */
export interface PostprocessorHooks {
  /** Whether the engine has closed (nothing more is delivered). */
  readonly closed: () => boolean;
  /** Element `seq` is done: its output, outputs (`Many`) or failure. */
  readonly settle: (seq: number, entry: unknown) => void;
}

/**
 * The engine's step from model outputs to settled elements: the handler's postprocess functions (synchronous, or
 * awaited through `PendingWork`), then the emitter. Without postprocessing, a batch's outputs go to the emitter in one
 * loop — in-order ones straight to the subscriber — with no call per element in between.
 */
export class Postprocessor {
  constructor(
    private readonly post: readonly PostprocessFn[],
    private readonly noBatching: boolean,
    private readonly pending: PendingWork,
    private readonly emitter: Emitter | StreamEmitter,
    private readonly hooks: PostprocessorHooks,
  ) {}

  /** Elements `[lo, hi)` of `batch` succeeded with `outputs` (one per element, from index 0). */
  ofBatch(batch: QueuedBatch, lo: number, hi: number, outputs: readonly unknown[], modelId: string): void {
    const seqs = batch.tags;
    const { post, emitter, hooks } = this;
    if (post.length > 0) {
      if (this.noBatching || !(emitter instanceof Emitter)) {
        for (let i = lo; i < hi; i++) this.ofBatchElement(seqs[i], outputs[i - lo], modelId);
        return;
      }
      // One element at a time, as `ofBatchElement`, but a synchronous result goes straight to the emitter's in-order
      // path, as outputs without postprocessing do (issue 11: the settle chain per element was the main job's cost).
      for (let i = lo; i < hi; i++) {
        const seq = seqs[i];
        const result = applyFunctions('postprocess', post, outputs[i - lo], modelId);
        if (Pending.is(result)) this.pending.await(seq, 'postprocess', result, (r) => hooks.settle(seq, r));
        else if (Failed.is(result)) hooks.settle(seq, result);
        else if (!hooks.closed()) emitter.settleOutput(seq, result);
      }
      return;
    }
    if (hooks.closed()) return;
    if (emitter instanceof Emitter) emitter.settleOutputs(seqs, lo, hi, outputs);
    else for (let i = lo; i < hi; i++) emitter.settle(seqs[i], outputs[i - lo]);
  }

  /** Element `seq` succeeded with `output` (with `withNoBatching`: the array of its outputs). */
  ofBatchElement(seq: number, output: unknown, modelId: string): void {
    const { post, noBatching, hooks } = this;
    if (post.length === 0) {
      hooks.settle(seq, noBatching ? new Many(output as readonly unknown[]) : output);
      return;
    }
    if (!noBatching) {
      const result = applyFunctions('postprocess', post, output, modelId);
      if (Pending.is(result)) this.pending.await(seq, 'postprocess', result, (r) => hooks.settle(seq, r));
      else hooks.settle(seq, result);
      return;
    }
    const results = (output as readonly unknown[]).map((o) => applyFunctions('postprocess', post, o, modelId));
    const pending = results.find(Pending.is);
    if (pending === undefined) {
      hooks.settle(seq, new Many(results));
      return;
    }
    const all = forkJoin(results.map((r) => (Pending.is(r) ? r.outcome : of(r))));
    const viaPromise = results.some((r) => Pending.is(r) && r.viaPromise);
    this.pending.await(seq, 'postprocess', new Pending(all, pending.index, pending.element, viaPromise), (values) =>
      hooks.settle(seq, new Many(values as unknown[])),
    );
  }
}
