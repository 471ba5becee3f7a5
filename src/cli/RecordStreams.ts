import type { Observable } from 'rxjs';
import type { LineRecord } from './recordParser.js';

/** Where the command reads records: a JSON-lines file or standard input ({@link LineSource}), or a Redis stream. */
export interface RecordSource {
  /** The records, numbered from 1. */
  readonly lines$: Observable<LineRecord>;
  /** Stops reading (flow control). */
  pause(): void;
  /** Reads on. */
  resume(): void;
  readonly isPaused: boolean;
  /** Records read (blank lines included). */
  readonly linesRead: number;
  /** Blank lines skipped. */
  readonly blankLines: number;
  /**
   * A worker's graceful stop (Redis): stop reading, finish and acknowledge what is held, then complete. Absent for
   * files, where a signal interrupts.
   */
  readonly drain?: () => void;
}

/** Where output lines or dead letters go: a file or standard output ({@link Sink}), or a Redis stream. */
export interface RecordSink {
  readonly writer: {
    /** Writes one line; `record` is the input it answers (a Redis sink acknowledges its entry once written). */
    write(line: string, record?: LineRecord): void;
    /** Writes what is queued and closes. */
    end(): Promise<void>;
    /** Lines written. */
    readonly count: number;
  };
  /** Whether writing is blocked (the input should pause). */
  readonly blocked: boolean;
  /** Wires the flow control. */
  configure(onBlocked: () => void, onDrain: () => void): void;
  /** Called with the first write error. */
  onError: (error: Error) => void;
}
