import { Observable, type OperatorFunction } from 'rxjs';
import { checkObject } from '../../core/validate.js';
import type { RedisDelivery } from './RedisDelivery.js';
import { RedisStreamWriter, type RedisRecord } from './RedisStreamWriter.js';
import { parseRedisStreamUrl } from './redisUrl.js';

/** Options of {@link toRedisStream}. */
export interface RedisStreamSinkConfig {
  /** The stream of records with `deadLetter: true` (a Redis stream URL). @default the output's server, `STREAM:dead-letter` */
  readonly deadLetter?: string;
  /** Field of the value. @default 'data' */
  readonly field?: string;
  /** Field of the input entry's id. @default 'id' */
  readonly idField?: string;
  /** Called with each connection error (the client reconnects by itself). */
  readonly onConnectionError?: (error: Error) => void;
}

/**
 * Writes each record to a Redis stream (fields `id`: the input entry's id, `data`: the record's data), or to the
 * dead-letter stream, and only then acknowledges its delivery; emits the delivery once both are done. The records of
 * one turn of the event loop (an inference batch) take one round trip: a `MULTI` with their `XADD`s and the `XACK`
 * of their deliveries (when the input lives on the same server; otherwise the acks follow the write).
 *
 * ```
 * records:   --a--b--c--|
 * written:   --a--b--c--|   (each after its XADD and XACK; complete once the last is acknowledged)
 * ```
 *
 * Complete waits for every record to be written and acknowledged, then closes the connections; error and
 * unsubscribe close them at once (records not yet written stay pending in Redis, to be reclaimed and written again).
 *
 * @example
 * ```ts
 * deliveries.pipe(
 *   map((d) => ({ delivery: d, data: JSON.stringify(score(d.value)) })),
 *   toRedisStream('redis://localhost:6379/scores'),
 * );
 * ```
 * @param url `redis://[user:password@]host[:port]/STREAM` (`rediss://` for TLS).
 * @param config See {@link RedisStreamSinkConfig}.
 * @returns An operator from records to their acknowledged deliveries.
 */
export function toRedisStream(
  url: string,
  config?: RedisStreamSinkConfig,
): OperatorFunction<RedisRecord, RedisDelivery<unknown>> {
  checkObject('config', config);
  const output = parseRedisStreamUrl(url);
  const deadLetter =
    config?.deadLetter === undefined
      ? parseRedisStreamUrl(url.replace(/(\/[^/?]*)(\?.*)?$/, '$1:dead-letter$2'))
      : parseRedisStreamUrl(config.deadLetter, 'deadLetter');
  return (source) =>
    new Observable<RedisDelivery<unknown>>((subscriber) => {
      const writerConfig = (name: string) => ({
        name,
        field: config?.field,
        idField: config?.idField,
        onConnectionError: config?.onConnectionError,
        onWritten: (record: RedisRecord) => subscriber.next(record.delivery),
        onError: (error: Error) => subscriber.error(error),
      });
      const writers = {
        output: new RedisStreamWriter(output, writerConfig('rxjs-inference:output')),
        deadLetter: undefined as RedisStreamWriter | undefined,
      };
      writers.output.open().catch((error: unknown) => subscriber.error(error));
      const subscription = source.subscribe({
        next: (record) => {
          if (record.deadLetter === true) {
            writers.deadLetter ??= new RedisStreamWriter(deadLetter, writerConfig('rxjs-inference:dead-letter'));
            writers.deadLetter.write(record);
          } else {
            writers.output.write(record);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          Promise.all([writers.output.end(), writers.deadLetter?.end()]).then(
            () => subscriber.complete(),
            (error: unknown) => subscriber.error(error),
          );
        },
      });
      return () => {
        subscription.unsubscribe();
        writers.output.close();
        writers.deadLetter?.close();
      };
    });
}
