import type { Writable } from 'node:stream';
import { LineWriter } from './LineWriter.js';

/** A writer whose backpressure callbacks are wired once the flow control exists. */
export class Sink {
  private blockedHook: () => void = () => undefined;
  private drainHook: () => void = () => undefined;
  /** Called with the stream's first error. */
  onError: (error: Error) => void = () => undefined;
  /** The chunking, backpressure-reporting writer. */
  readonly writer: LineWriter;

  constructor(stream: Writable, close: boolean) {
    this.writer = new LineWriter(stream, {
      close,
      onBlocked: () => this.blockedHook(),
      onDrain: () => this.drainHook(),
      onError: (error) => this.onError(error),
    });
  }

  /** Whether the stream's buffer is full. */
  get blocked(): boolean {
    return this.writer.blocked;
  }

  /** Wires the flow control: `onBlocked` pauses the input, `onDrain` may resume it. */
  configure(onBlocked: () => void, onDrain: () => void): void {
    this.blockedHook = onBlocked;
    this.drainHook = onDrain;
  }
}
