import type { Writable } from 'node:stream';

/** Options of a {@link LineWriter}. */
export interface LineWriterConfig {
  /** Close the stream at `end()` (files); `false` for standard output. @default true */
  readonly close?: boolean;
  /** Bytes (UTF-16 units) gathered before a write. @default 65536 */
  readonly chunkSize?: number;
  /**
   * Bytes the stream may hold unwritten before the writer reports it blocked. A file stream's own buffer (16 KB) is
   * smaller than one chunk, so its `write` returns false after every chunk: blocking then paused the input once per
   * chunk even when the disk kept up (issue 11). @default the stream's buffer plus one chunk: a chunk may be written
   * while the next one is gathered
   */
  readonly blockAtBytes?: number;
  /** Called when the stream holds `blockAtBytes` unwritten (and its `write` returned false): stop producing. */
  readonly onBlocked?: () => void;
  /** Called when the stream drained after being blocked. */
  readonly onDrain?: () => void;
  /** Called once with the stream's first error (e.g. EPIPE, disk full). */
  readonly onError?: (error: Error) => void;
}

/**
 * Writes JSON lines in chunks (one `stream.write` per ~64 KB, or at the end of the current turn of the event loop)
 * and reports backpressure: when `write` returns false with more than `blockAtBytes` (the stream's buffer and one chunk)
 * still unwritten, the writer is `blocked` until the stream drains, and the caller pauses its input so memory stays
 * bounded.
 */
export class LineWriter {
  private pending: string[] = [];
  private pendingSize = 0;
  private flushScheduled = false;
  private blockedNow = false;
  private failed: Error | undefined;
  /** Lines written. */
  count = 0;

  constructor(
    private readonly stream: Writable,
    private readonly config: LineWriterConfig = {},
  ) {
    stream.on('drain', () => {
      if (!this.blockedNow) return;
      this.blockedNow = false;
      this.config.onDrain?.();
    });
    stream.on('error', (error: Error) => {
      if (this.failed !== undefined) return;
      this.failed = error;
      this.config.onError?.(error);
    });
  }

  /** Whether the stream's buffer is full. */
  get blocked(): boolean {
    return this.blockedNow;
  }

  /** The stream's error, if it failed. */
  get error(): Error | undefined {
    return this.failed;
  }

  /** Queues one line (a line break is added). */
  write(line: string): void {
    this.count++;
    this.pending.push(line);
    this.pendingSize += line.length + 1;
    if (this.pendingSize >= (this.config.chunkSize ?? 65536)) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Writes what is queued. */
  flush(): void {
    if (this.pending.length === 0 || this.failed !== undefined) {
      this.pending = [];
      this.pendingSize = 0;
      return;
    }
    const chunk = this.pending.join('\n') + '\n';
    this.pending = [];
    this.pendingSize = 0;
    if (
      !this.stream.write(chunk) &&
      !this.blockedNow &&
      this.stream.writableLength >
        (this.config.blockAtBytes ?? this.stream.writableHighWaterMark + (this.config.chunkSize ?? 65536))
    ) {
      this.blockedNow = true;
      this.config.onBlocked?.();
    }
  }

  /** Flushes, then ends the stream (files) or waits until standard output has taken everything. */
  end(): Promise<void> {
    this.flush();
    if (this.failed !== undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => resolve();
      this.stream.once('error', done);
      if (this.config.close ?? true) this.stream.end(done);
      else this.stream.write('', done);
    });
  }
}
