import { Transform, type TransformCallback } from 'node:stream';

/** Ends a cut line: NUL cannot appear unescaped in JSON, so no valid record ends with it. */
const MARKER_PREFIX = '\u0000rxjs-inference:line-too-long:';
const NEWLINE = Buffer.from('\n');

/**
 * Cuts input lines longer than `maxBytes` before they are split into strings, so that one huge line (a file with no
 * line break at all, say) never sits whole in memory: the first `maxBytes` bytes are kept, the rest of the line is
 * dropped as it streams by, and a marker holding the line's full size is appended. {@link readCutLine} recognises it.
 * Chunks without an over-long line pass through untouched (no copy).
 */
export class LineLengthLimiter extends Transform {
  /** Bytes of the current line so far (kept and dropped). */
  private current = 0;
  private dropping = false;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.dropping && this.current + chunk.length <= this.maxBytes) {
      // No line of this chunk can be over the limit (the common case, limits of megabytes and 64 KB chunks): it
      // passes as it is, with only its last line break looked for, not every one (issue 11).
      const last = chunk.lastIndexOf(10);
      this.current = last < 0 ? this.current + chunk.length : chunk.length - last - 1;
      callback(null, chunk);
      return;
    }
    let parts: Buffer[] | undefined;
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(10, start);
      const end = newline < 0 ? chunk.length : newline;
      const length = end - start;
      if (this.dropping) {
        parts ??= [chunk.subarray(0, start)]; // the rest of a line cut in an earlier chunk: dropped
      } else if (this.current + length > this.maxBytes) {
        // This line goes over the limit: from here on, the chunk is rebuilt.
        parts ??= [chunk.subarray(0, start)];
        parts.push(chunk.subarray(start, start + (this.maxBytes - this.current)));
        this.dropping = true;
      } else if (parts !== undefined) {
        parts.push(chunk.subarray(start, end));
      }
      this.current += length;
      if (newline < 0) break;
      if (this.dropping) parts!.push(Buffer.from(MARKER_PREFIX + String(this.current)));
      parts?.push(NEWLINE);
      this.current = 0;
      this.dropping = false;
      start = newline + 1;
    }
    callback(null, parts === undefined ? chunk : Buffer.concat(parts));
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.dropping ? Buffer.from(MARKER_PREFIX + String(this.current)) : undefined);
  }
}

/** A line as read: its text, and the full size in bytes when {@link LineLengthLimiter} cut it. */
export function readCutLine(text: string): { text: string; tooLong: number | undefined } {
  const at = text.indexOf(MARKER_PREFIX);
  if (at < 0) return { text, tooLong: undefined };
  return { text: text.slice(0, at), tooLong: Number(text.slice(at + MARKER_PREFIX.length)) };
}
