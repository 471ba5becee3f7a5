import { map, ReplaySubject, type Observable } from 'rxjs';
import { fromRedisStream, type RedisDelivery, type RedisStreamEntry } from '../../redis/index.js';
import type { LineRecord } from '../recordParser.js';
import type { RecordSource } from '../RecordStreams.js';

/** Options of a {@link RedisRecordSource}. */
export interface RedisRecordSourceConfig {
  /** `--input`: `redis://HOST:PORT/STREAM?group=GROUP[&consumer=…&minIdleMs=…&maxDeliveries=…]`. */
  readonly url: string;
  /** `--dead-letter` as a Redis URL (where poison entries go). */
  readonly deadLetter: string;
  /** `--max-in-flight`: entries held (read, not yet acknowledged) at most. */
  readonly maxInFlight: number;
  /** `--max-raw-length`: characters of an entry kept in its dead letter. */
  readonly maxRawLength: number;
  /** Progress and warnings on standard error. */
  readonly log: (text: string) => void;
}

/** Connection errors repeat while Redis is down: the same message is logged at most this often. */
const LOG_REPEAT_MS = 10000;

/**
 * The `predict` input from a Redis stream (consumer group, at-least-once): each entry's `data` field is one JSON
 * record. Runs until {@link drain} (SIGTERM/SIGINT): then it stops reading and completes once every entry it holds
 * is written and acknowledged. Records are numbered in the order this worker received them.
 */
export class RedisRecordSource implements RecordSource {
  linesRead = 0;
  readonly blankLines = 0;
  /** Poison entries sent to the dead-letter stream. */
  poisoned = 0;
  private paused = false;
  private readonly stop = new ReplaySubject<void>(1);
  private readonly deliveries = new WeakMap<LineRecord, RedisDelivery>();
  readonly lines$: Observable<LineRecord>;

  constructor(config: RedisRecordSourceConfig) {
    const { log, maxRawLength } = config;
    let lastLog = { text: '', at: -Infinity };
    const poisonData = (entry: RedisStreamEntry, maxDeliveries: number): string =>
      JSON.stringify({
        line: null,
        stage: 'delivery',
        error: 'MaxDeliveriesExceeded',
        reason: `entry ${entry.id} was delivered ${entry.deliveries} times (over maxDeliveries ${maxDeliveries}) without being acknowledged: a worker died on it, so it is not run again`,
        raw: entry.value.length > maxRawLength ? entry.value.slice(0, maxRawLength) : entry.value,
        rawLength: Buffer.byteLength(entry.value),
        truncated: entry.value.length > maxRawLength,
      });
    this.lines$ = fromRedisStream(config.url, {
      maxInFlight: config.maxInFlight,
      deadLetter: config.deadLetter,
      stop: this.stop,
      poisonData,
      onPoison: (entry) => {
        this.poisoned++;
        log(`entry ${entry.id} delivered ${entry.deliveries} times: sent to the dead-letter stream, not run again`);
      },
      onConnectionError: (error) => {
        const now = performance.now();
        if (error.message === lastLog.text && now - lastLog.at < LOG_REPEAT_MS) return;
        lastLog = { text: error.message, at: now };
        log(`redis connection: ${error.message} (reconnecting)`);
      },
    }).pipe(
      map((delivery) => {
        const record: LineRecord = { line: ++this.linesRead, text: delivery.value };
        this.deliveries.set(record, delivery);
        return record;
      }),
    );
  }

  /** The delivery a record came from (the sink acknowledges it once the record's output is written). */
  deliveryOf(record: LineRecord | undefined): RedisDelivery | undefined {
    return record === undefined ? undefined : this.deliveries.get(record);
  }

  /** Stops reading; the stream completes once what is held is acknowledged. */
  readonly drain = (): void => this.stop.next();

  /** Backpressure is the source's own (`--max-in-flight` unacknowledged entries): pausing only records the state. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  get isPaused(): boolean {
    return this.paused;
  }
}
