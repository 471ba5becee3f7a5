/** One line of the results table: a measured figure, its baseline, the ratio and the target. */
export interface BenchRow {
  /** Scenario id (`P1`, `P2`, …). */
  readonly id: string;
  /** What was measured. */
  readonly name: string;
  /** The library's figure (median), in `unit`. */
  readonly value: number;
  /** The baseline's figure (median), in `unit`; absent when the figure is absolute. */
  readonly baseline?: number;
  readonly unit: string;
  /** The figure the target is about: usually value / baseline. */
  readonly ratio?: number;
  /** The target, as text (`≥ 0.95×`). */
  readonly target: string;
  /** Whether the target is met. */
  readonly pass: boolean;
  /** How it was measured (batch sizes, repetitions, spread). */
  readonly note: string;
}
