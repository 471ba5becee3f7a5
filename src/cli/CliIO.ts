import type { Readable, Writable } from 'node:stream';

/** The process's streams, injectable so that the command runs in-process in tests. */
export interface CliIO {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable & { readonly isTTY?: boolean };
  /** Fires on SIGINT / SIGTERM: the job stops reading, writes what it has and reports. */
  readonly signal?: AbortSignal;
}
