import type { Subscriber } from 'rxjs';
import type { InferenceEvent } from '../core/InferenceEvent.js';
import type { RunInferenceMetrics } from '../metrics/RunInferenceMetrics.js';
import { Emitter, type EngineMode, Many } from './Emitter.js';
import { Failed } from './Failed.js';
import { ReorderBuffer } from './ReorderBuffer.js';

interface Progress {
  readonly first: number;
  last: number;
  count: number;
}

/**
 * The output side of the engine in streaming mode (`streamInference`): partial outputs go out as they come, each
 * element's outcome goes out as its `end` event (or its failure), and when ordered an element's events are held until
 * every earlier element has ended — so the events of one element are never interleaved with another's. Also records
 * the streaming metrics: time from an element's arrival to its first output, and outputs per second after it.
 */
export class StreamEmitter {
  /** Emits (or fails on) each event as soon as it is handed over: the ordering is done here. */
  private readonly out: Emitter;
  private readonly reorder: ReorderBuffer<unknown> | undefined;
  /** Partial outputs of elements whose turn has not come (ordered only). */
  private readonly held = new Map<number, unknown[]>();
  private readonly progress = new Map<number, Progress>();

  constructor(
    mode: EngineMode,
    ordered: boolean,
    subscriber: Subscriber<unknown>,
    fail: (error: Error) => void,
    private readonly clock: () => number,
    private readonly metrics: RunInferenceMetrics | undefined,
  ) {
    this.out = new Emitter(mode, false, subscriber, fail);
    this.reorder = ordered
      ? new ReorderBuffer<unknown>((entry, seq) => {
          this.release(seq);
          this.out.settle(seq, entry);
        })
      : undefined;
  }

  /** Outcomes waiting for an earlier element. */
  get waiting(): number {
    return this.reorder?.size ?? 0;
  }

  /** A partial output of element `seq` (which arrived at `arrivedAt`): out now, or when its turn comes. */
  partial(seq: number, arrivedAt: number, value: unknown): void {
    const now = this.clock();
    const progress = this.progress.get(seq);
    if (progress === undefined) {
      this.progress.set(seq, { first: now, last: now, count: 1 });
      this.metrics?.recordTimeToFirstOutput(now - arrivedAt);
    } else {
      progress.last = now;
      progress.count++;
    }
    const event: InferenceEvent<unknown, unknown> = { kind: 'partial', index: seq, value };
    if (this.reorder === undefined || seq === this.reorder.expected) {
      this.out.settle(seq, event);
      return;
    }
    const held = this.held.get(seq);
    if (held === undefined) this.held.set(seq, [event]);
    else held.push(event);
  }

  /** Element `seq` is done (output, outputs or failure): its `end` event (or failure) goes out now or in its turn. */
  settle(seq: number, entry: unknown): void {
    const progress = this.progress.get(seq);
    if (progress !== undefined) {
      this.progress.delete(seq);
      // The decoding rate after the first output; undefined for a single output (or no time between outputs).
      if (progress.count > 1 && progress.last > progress.first) {
        this.metrics?.recordOutputsPerSecond(((progress.count - 1) * 1000) / (progress.last - progress.first));
      }
    }
    const end =
      entry instanceof Failed
        ? entry
        : { kind: 'end', index: seq, result: entry instanceof Many ? entry.values : entry };
    if (this.reorder === undefined) {
      this.out.settle(seq, end);
      return;
    }
    this.reorder.offer(seq, end);
    // The element whose turn has now come may have streamed already: what it held goes out at once.
    this.release(this.reorder.expected);
  }

  clear(): void {
    this.reorder?.clear();
    this.held.clear();
    this.progress.clear();
  }

  private release(seq: number): void {
    const held = this.held.get(seq);
    if (held === undefined) return;
    this.held.delete(seq);
    for (const event of held) this.out.settle(seq, event);
  }
}
