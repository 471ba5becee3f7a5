import { describeValue, toError } from '../../core/errors.js';
import { connectRedis, type RedisClient } from './loadRedisClient.js';
import { deliveryInternals, type RedisDelivery } from './RedisDelivery.js';
import type { RedisStreamAddress } from './redisUrl.js';

/** One entry to write: its data, and the delivery it answers (acknowledged once the entry is written). */
export interface RedisRecord {
  /** The input delivery this record is the result (or dead letter) of. */
  readonly delivery: RedisDelivery<unknown>;
  /** The value written in the `data` field (a JSON line for the CLI). */
  readonly data: string;
  /** Write it to the dead-letter stream rather than the output stream. @default false */
  readonly deadLetter?: boolean;
}

/** Options of a {@link RedisStreamWriter}. */
export interface RedisStreamWriterConfig {
  /** Field of the value. @default 'data' */
  readonly field?: string;
  /** Field of the input entry's id. @default 'id' */
  readonly idField?: string;
  /** The connection's name (`CLIENT SETNAME`). */
  readonly name: string;
  /** Called with each record once it is written and its delivery acknowledged. */
  readonly onWritten?: (record: RedisRecord) => void;
  /** Called once, with the first write error (nothing is written after it). */
  readonly onError?: (error: Error) => void;
  /** Called with each connection error (the client reconnects by itself). */
  readonly onConnectionError?: (error: Error) => void;
}

/**
 * Writes records to one stream (`XADD STREAM * id ID data DATA`), then acknowledges their deliveries: the records of
 * one turn of the event loop (one inference batch) go in one `MULTI` … `EXEC` round trip that also holds the `XACK`
 * of every delivery read from the same server, so the write and the ack happen together or not at all. A delivery
 * read from another server is acknowledged after the transaction (`delivery.ack()`): a crash in between leaves it
 * pending, to be reclaimed and written again (at-least-once).
 */
export class RedisStreamWriter {
  /** Records written. */
  count = 0;
  private client: RedisClient | undefined;
  private opening: Promise<void> | undefined;
  private queue: RedisRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failed: Error | undefined;
  private closed = false;

  constructor(
    private readonly target: RedisStreamAddress,
    private readonly config: RedisStreamWriterConfig,
  ) {}

  /** Connects and checks that the key is a stream (or absent): a write error inside `MULTI` would not undo the acks. */
  open(): Promise<void> {
    this.opening ??= (async () => {
      const client = await connectRedis(this.target, this.config.name, this.config.onConnectionError);
      if (this.closed) return void client.disconnect();
      this.client = client;
      const type = await client.call('TYPE', this.target.stream);
      if (type !== 'stream' && type !== 'none') {
        throw new Error(`${this.target.display} is a ${String(type)}, not a stream.`);
      }
    })();
    return this.opening;
  }

  /** The first error, if any. */
  get error(): Error | undefined {
    return this.failed;
  }

  /** Queues a record; the queue is sent at the end of the current turn of the event loop. */
  write(record: RedisRecord): void {
    if (this.failed !== undefined || this.closed) return;
    const { delivery, data } = (record ?? {}) as Partial<RedisRecord>;
    if (typeof delivery?.id !== 'string' || typeof delivery.ack !== 'function' || typeof data !== 'string') {
      return this.fail(
        new TypeError(
          `Expected a record { delivery, data } with a delivery of fromRedisStream and a string data, got ${describeValue(record)}.`,
        ),
      );
    }
    if (this.queue.length === 0) queueMicrotask(() => this.flush());
    this.queue.push(record);
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0 || this.failed !== undefined || this.closed) return;
    const sending = this.send(batch).then(
      () => {
        for (const record of batch) this.config.onWritten?.(record);
      },
      (error: unknown) => this.fail(toError(error)),
    );
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
  }

  private async send(batch: readonly RedisRecord[]): Promise<void> {
    await this.open();
    const { field = 'data', idField = 'id' } = this.config;
    const multi = this.client!.multi();
    const acks = new Map<string, { stream: string; group: string; ids: string[]; settle: (() => void)[] }>();
    const elsewhere: RedisDelivery<unknown>[] = [];
    for (const { delivery, data } of batch) {
      multi.call('XADD', this.target.stream, '*', idField, delivery.id, field, data);
      const internals = deliveryInternals.get(delivery);
      if (internals?.serverKey === this.target.serverKey) {
        const key = JSON.stringify([internals.stream, internals.group]);
        const entry = acks.get(key) ?? { stream: internals.stream, group: internals.group, ids: [], settle: [] };
        entry.ids.push(delivery.id);
        entry.settle.push(internals.settle);
        acks.set(key, entry);
      } else {
        elsewhere.push(delivery);
      }
    }
    for (const { stream, group, ids } of acks.values()) multi.call('XACK', stream, group, ...ids);
    const replies = await multi.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (failed) throw failed[0];
    this.count += batch.length;
    for (const { settle } of acks.values()) for (const s of settle) s();
    await Promise.all(elsewhere.map((d) => d.ack()));
  }

  private fail(error: Error): void {
    if (this.failed !== undefined || this.closed) return;
    this.failed = new Error(`cannot write to ${this.target.display}: ${error.message}`, { cause: error });
    this.config.onError?.(this.failed);
  }

  /** Sends what is queued, waits until every record is written and acknowledged, then closes the connection. */
  async end(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    const client = this.client;
    this.closed = true;
    this.client = undefined;
    if (client !== undefined) await client.quit().catch(() => client.disconnect());
  }

  /** Closes the connection at once (records not yet written stay unacknowledged, to be reclaimed). */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.client?.disconnect();
    this.client = undefined;
  }
}
