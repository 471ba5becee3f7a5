import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { Observable } from 'rxjs';
import { LineLengthLimiter, readCutLine } from './LineLengthLimiter.js';
import type { LineRecord } from './recordParser.js';

/**
 * The input as an Observable of lines, split at LF (CRLF too; a lone CR is not a break, as for `wc -l`; a leading
 * UTF-8 byte order mark is skipped) as the stream delivers chunks: the input is never
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
  private stream: Readable | undefined;
  private paused = false;

  constructor(
    private readonly input: Readable,
    private readonly maxLineBytes?: number,
  ) {}

  /** The non-blank lines, numbered from 1 as in the file; completes at end of input; errors if the stream does. */
  readonly lines$ = new Observable<LineRecord>((subscriber) => {
    const limiter = this.maxLineBytes === undefined ? undefined : new LineLengthLimiter(this.maxLineBytes);
    const lines: Readable = limiter === undefined ? this.input : this.input.pipe(limiter);
    this.stream = lines;
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let atStart = true;
    const emit = (raw: string): void => {
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
    };
    // Lines end at LF (a CR before it is dropped): a lone CR is not a line break, as for `wc -l`.
    const onData = (chunk: Buffer | string): void => {
      let text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
      if (atStart && text.length > 0) {
        atStart = false;
        // A UTF-8 byte order mark at the start of the input is not part of the first record.
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      let from = 0;
      for (let at = text.indexOf('\n'); at !== -1 && !subscriber.closed; at = text.indexOf('\n', from)) {
        emit(text.slice(from, at > from && text.charCodeAt(at - 1) === 13 ? at - 1 : at));
        from = at + 1;
      }
      rest = from === 0 ? text : text.slice(from);
    };
    const onEnd = (): void => {
      const last = rest + decoder.end();
      rest = '';
      if (last.length > 0) emit(atStart && last.charCodeAt(0) === 0xfeff ? last.slice(1) : last);
      subscriber.complete();
    };
    const onError = (error: Error): void => subscriber.error(error);
    this.input.on('error', onError);
    if (limiter !== undefined) limiter.on('error', onError);
    lines.on('data', onData);
    lines.on('end', onEnd);
    if (this.paused) lines.pause();
    return () => {
      this.input.off('error', onError);
      lines.off('data', onData);
      lines.off('end', onEnd);
      lines.pause();
      if (limiter !== undefined) {
        this.input.unpipe(limiter);
        limiter.off('error', onError);
        limiter.destroy();
      }
      this.stream = undefined;
    };
  });

  /** Stops reading (flow control). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.stream?.pause();
  }

  /** Reads on. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.stream?.resume();
  }

  /** Whether reading is paused. */
  get isPaused(): boolean {
    return this.paused;
  }
}
