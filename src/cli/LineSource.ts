import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Observable } from 'rxjs';
import type { LineRecord } from './recordParser.js';

/**
 * The input as an Observable of lines, read with `node:readline` as the stream delivers chunks: the input is never
 * loaded whole. `pause()`/`resume()` stop and restart the underlying stream (lines of the chunk being split may still
 * arrive after `pause()`: at most one chunk's worth). Blank lines are counted and skipped.
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

  constructor(private readonly input: Readable) {}

  /** The non-blank lines, numbered from 1 as in the file; completes at end of input; errors if the stream does. */
  readonly lines$ = new Observable<LineRecord>((subscriber) => {
    const rl = createInterface({ input: this.input, crlfDelay: Infinity });
    this.rl = rl;
    if (this.paused) rl.pause();
    const onError = (error: Error): void => subscriber.error(error);
    this.input.on('error', onError);
    // readline re-emits the input's errors on the interface (Node ≥ 16): without a listener there, they would throw.
    rl.on('error', onError);
    rl.on('line', (text) => {
      const line = ++this.linesRead;
      if (text.trim() === '') {
        this.blankLines++;
        return;
      }
      subscriber.next({ line, text });
    });
    rl.on('close', () => subscriber.complete());
    return () => {
      this.input.off('error', onError);
      rl.removeAllListeners('line');
      rl.removeAllListeners('close');
      rl.close();
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
