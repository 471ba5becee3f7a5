import { Subject, type Subscription } from 'rxjs';
import { toRedisStream, type RedisRecord } from '../../redis/index.js';
import type { LineRecord } from '../recordParser.js';
import type { RecordSink } from '../RecordStreams.js';
import type { RedisRecordSource } from './RedisRecordSource.js';

/**
 * `--output` or `--dead-letter` as a Redis stream: each line is written as an entry `{ id, data }` (`id`: the input
 * entry's id) and the input entry is acknowledged once it is written (`toRedisStream`). A line whose input entry is
 * unknown cannot be acknowledged: it is not written, and the entry is delivered again after `minIdleMs`.
 */
export class RedisRecordSink implements RecordSink {
  onError: (error: Error) => void = () => undefined;
  readonly blocked = false;
  private readonly records = new Subject<RedisRecord>();
  private readonly subscription: Subscription;
  private readonly done: Promise<void>;

  constructor(
    url: string,
    private readonly source: RedisRecordSource,
  ) {
    let finish: () => void = () => undefined;
    this.done = new Promise<void>((resolve) => (finish = resolve));
    this.subscription = this.records.pipe(toRedisStream(url)).subscribe({
      next: () => (this.writer as { count: number }).count++,
      error: (error: Error) => {
        finish();
        this.onError(error);
      },
      complete: finish,
    });
  }

  readonly writer: RecordSink['writer'] = {
    write: (line: string, record?: LineRecord): void => {
      const delivery = this.source.deliveryOf(record);
      if (delivery !== undefined) this.records.next({ delivery, data: line });
    },
    end: (): Promise<void> => {
      this.records.complete();
      return this.done.then(() => this.subscription.unsubscribe());
    },
    count: 0,
  };

  /** Backpressure is the source's (unacknowledged entries): nothing to wire. */
  configure(): void {}
}
