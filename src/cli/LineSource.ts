import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Observable } from 'rxjs';
import { LineLengthLimiter, readCutLine } from './LineLengthLimiter.js';
import type { LineRecord } from './recordParser.js';

/**
 * The input as an Observable of lines, read with `node:readline` as the stream delivers chunks: the input is never
 * loaded whole. `pause()`/`resume()` stop and restart the underlying stream (lines of the chunk being split may still
 * arrive after `pause()`: at most one chunk's worth). Blank lines are counted and skipped. With `maxLineBytes`, a
 * longer line is cut as it streams by ({@link LineLengthLimiter}) and comes out with `tooLong` set to its size: one
 * huge line never sits whole in memory.
 *
 * Single use: the stream is read by the first subscription.
 */
export class LineSource {
  /** Lines read, blank ones included (progress against a line count). */
  linesRead = 0;
  /** Blank (whitespace-only) lines skipped. */
  blankLines = 0;
  private rl: Interface | undefined;
  private paused = false;

  constructor(
    private readonly input: Readable,
    private readonly maxLineBytes?: number,
  ) {}

  /** The non-blank lines, numbered from 1 as in the file; completes at end of input; errors if the stream does. */
  readonly lines$ = new Observable<LineRecord>((subscriber) => {
    const limiter = this.maxLineBytes === undefined ? undefined : new LineLengthLimiter(this.maxLineBytes);
    const lines = limiter === undefined ? this.input : this.input.pipe(limiter);
    const rl = createInterface({ input: lines, crlfDelay: Infinity });
    this.rl = rl;
    if (this.paused) rl.pause();
    const onError = (error: Error): void => subscriber.error(error);
    this.input.on('error', onError);
    // readline re-emits the input's errors on the interface (Node ≥ 16): without a listener there, they would throw.
    rl.on('error', onError);
    rl.on('line', (raw) => {
      const line = ++this.linesRead;
      // A line that starts with a visible ASCII character is not blank: no trimmed copy of every line.
      if ((raw.length === 0 || raw.charCodeAt(0) <= 32 || raw.charCodeAt(0) >= 127) && raw.trim() === '') {
        this.blankLines++;
        return;
      }
      if (limiter === undefined) {
        subscriber.next({ line, text: raw });
        return;
      }
      const { text, tooLong } = readCutLine(raw);
      subscriber.next(tooLong === undefined ? { line, text } : { line, text, tooLong });
    });
    rl.on('close', () => subscriber.complete());
    return () => {
      this.input.off('error', onError);
      rl.removeAllListeners('line');
      rl.removeAllListeners('close');
      rl.close();
      if (limiter !== undefined) {
        this.input.unpipe(limiter);
        limiter.destroy();
      }
      this.rl = undefined;
    };
  });

  /** Stops reading (flow control). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.rl?.pause();
  }

  /** Reads on. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.rl?.resume();
  }

  /** Whether reading is paused. */
  get isPaused(): boolean {
    return this.paused;
  }
}
