import { SingleBar } from 'cli-progress';
import { clearLine, cursorTo } from 'node:readline';
import type { Writable } from 'node:stream';

/** Counts the reporter reads at each tick. */
export interface ProgressCounts {
  /** Lines read (blank ones included), comparable with `total`. */
  readonly lines: number;
  /** Records done (written or failed). */
  readonly done: number;
  /** Records failed. */
  readonly failed: number;
}

/** Options of a {@link ProgressReporter}. */
export interface ProgressReporterConfig {
  /** Where progress goes (standard error). */
  readonly stream: Writable;
  /** A bar (`cli-progress`, redrawn in place) when the stream is a terminal; plain lines otherwise. */
  readonly tty: boolean;
  /** Lines in the input, when known (a file): percentage and ETA. */
  readonly total: number | undefined;
  /** Time between plain lines (non-terminal). */
  readonly intervalMs: number;
  /** Reads the current counts. */
  readonly counts: () => ProgressCounts;
  /** Milliseconds since the start (injected so that tests and the summary share one clock). */
  readonly now: () => number;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * Progress on standard error: a `cli-progress` bar (rate, count, failures, ETA when the input size is known) on a
 * terminal, or one plain line every `intervalMs` otherwise, without any control character, so logs stay readable.
 */
export class ProgressReporter {
  private bar: SingleBar | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly start: number;

  constructor(private readonly config: ProgressReporterConfig) {
    this.start = config.now();
  }

  /** Starts drawing (bar) or the periodic lines. */
  begin(): void {
    const { tty, total, stream, intervalMs } = this.config;
    if (tty) {
      const known = total !== undefined && total > 0;
      this.bar = new SingleBar({
        stream: stream as unknown as NodeJS.WritableStream,
        format: known
          ? 'predict |{bar}| {percentage}% | {value}/{total} lines | {rate} rec/s | {failed} failed | ETA {eta_formatted}'
          : 'predict {value} lines | {rate} rec/s | {failed} failed | {duration_formatted}',
        hideCursor: true,
        etaBuffer: 100,
        fps: 5,
        barsize: 30,
        // Redraw on every tick even when unchanged: a line written above the bar (`log`) wiped it.
        forceRedraw: true,
      });
      this.bar.start(known ? total : 0, 0, { rate: 0, failed: 0 });
      this.timer = setInterval(() => this.tick(), 200);
    } else {
      this.timer = setInterval(() => this.tick(), intervalMs);
    }
    this.timer.unref();
  }

  /** The current rate in records per second. */
  private rate(done: number): number {
    const seconds = (this.config.now() - this.start) / 1000;
    return seconds > 0 ? Math.round(done / seconds) : 0;
  }

  /** Draws the bar or prints one line now. */
  tick(): void {
    const { lines, done, failed } = this.config.counts();
    const rate = this.rate(done);
    if (this.bar !== undefined) {
      this.bar.update(lines, { rate, failed });
      return;
    }
    const { total, stream } = this.config;
    let text = `rxjs-inference: ${lines}`;
    if (total !== undefined && total > 0) {
      const percent = Math.min(100, (100 * lines) / total);
      const linesPerSecond = lines / Math.max(1e-3, (this.config.now() - this.start) / 1000);
      text += `/${total} lines (${percent.toFixed(1)} %), ${failed} failed, ${rate} rec/s`;
      text += `, ETA ${formatDuration((total - lines) / linesPerSecond)}`;
    } else {
      text += ` lines, ${failed} failed, ${rate} rec/s`;
    }
    stream.write(text + '\n');
  }

  /**
   * Writes one line of text (a failure, a notice) on standard error. With a bar on a terminal, the bar's line is
   * cleared first, the text takes its place, and the bar is drawn again below it: the two never share a line.
   */
  log(text: string): void {
    const { stream } = this.config;
    const bar = this.bar;
    if (bar === undefined) {
      stream.write(text + '\n');
      return;
    }
    const tty = stream as unknown as NodeJS.WritableStream;
    cursorTo(tty, 0);
    clearLine(tty, 0);
    stream.write(text + '\n');
    // The bar returns to its saved cursor position when it stops: save the new one, below the text.
    stream.write('\u001b7');
    bar.render();
  }

  /** Stops the timer; a bar is drawn a last time and closed (the cursor is shown again). */
  end(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.bar !== undefined) {
      const { lines, done, failed } = this.config.counts();
      this.bar.update(lines, { rate: this.rate(done), failed });
      this.bar.stop();
      this.bar = undefined;
    }
  }
}
