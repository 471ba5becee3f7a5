import type { EngineOptions } from './EngineOptions.js';

/**
 * How arrival times are read: `'exact'` one clock read per element; `'run'` one per run of elements (see
 * {@link ArrivalClock}); `'off'` never (nothing uses them: no time bound, no metrics, no streaming).
 */
export type ArrivalMode = 'exact' | 'run' | 'off';

/** Most elements one clock read stamps in `'run'` mode. */
export const RUN_LENGTH = 32;

/**
 * The arrival time of each queued element, for the queue-wait metric, the streaming time-to-first-output metric and
 * the time bound (`maxBatchDurationMs`). Reading the clock per element (`performance.now()`, ~20 ns) was the largest
 * single per-element cost of the engine (issue 11), so in `'run'` mode one read stamps a run of elements:
 *
 * **The rule.** A run is at most {@link RUN_LENGTH} consecutive arrivals in one synchronous burst with no engine work
 * between them. The engine calls {@link invalidate} whenever it works (a model call, an emission, a timer or flush
 * action, a batch finishing), and in `'run'` mode every arrival leaves its flush action pending at the end of the
 * burst (on the burst scheduler), which ends the run, so an element never takes a time read before the previous
 * engine work or before its burst began. An element's stamp is
 * therefore early by at most the time its source took to produce up to 31 earlier elements of the same burst
 * (nanoseconds for an in-memory source); the queue-wait metric may overstate a wait by that, never understate it.
 *
 * The engine uses `'exact'` wherever time decides behaviour or is virtual: with a time bound (a partial batch goes
 * exactly `maxBatchDurationMs` after its first element) and with a user's scheduler (its `now()` is the clock, and
 * virtual time stands still within a frame anyway).
 */
export class ArrivalClock {
  private stamp = 0;
  private left = 0;

  constructor(
    private readonly clock: () => number,
    private readonly mode: ArrivalMode,
  ) {}

  /** The clock of an engine: its `clock`, in the mode its options call for (see {@link arrivalMode}). */
  static forEngine(options: EngineOptions): ArrivalClock {
    const { batch, metrics, stream, schedulerClock } = options;
    const timeBound = batch.maxBatchDurationMs !== undefined;
    return new ArrivalClock(
      options.clock,
      arrivalMode({ timeBound, metrics: metrics !== undefined, stream: stream === true, schedulerClock }),
    );
  }

  /** Whether one read stamps a run (the engine must then end each burst with an action that calls `invalidate`). */
  get inRuns(): boolean {
    return this.mode === 'run';
  }

  /** The arrival time of an element arriving now. */
  now(): number {
    if (this.left > 0) {
      this.left--;
      return this.stamp;
    }
    if (this.mode !== 'run') return this.mode === 'exact' ? this.clock() : 0;
    this.stamp = this.clock();
    this.left = RUN_LENGTH - 1;
    return this.stamp;
  }

  /** The engine has done work that takes time, or a burst ended: the next arrival reads the clock. */
  invalidate(): void {
    this.left = 0;
  }
}

/** What decides how arrival times are read. */
export interface ArrivalNeeds {
  /** A time bound (`maxBatchDurationMs`) is configured. */
  readonly timeBound: boolean;
  /** The queue-wait metric is recorded. */
  readonly metrics: boolean;
  /** Streaming (time to first output is recorded). */
  readonly stream: boolean;
  /** The clock is a user scheduler's `now()` (virtual time in tests). */
  readonly schedulerClock: boolean;
}

/** Exact where time decides behaviour or is virtual; off where nothing reads arrival times; else one read per run. */
export function arrivalMode(needs: ArrivalNeeds): ArrivalMode {
  if (needs.timeBound) return 'exact';
  if (!needs.metrics && !needs.stream) return 'off';
  return needs.schedulerClock ? 'exact' : 'run';
}
