import { from, Observable, take, type SchedulerAction, type Subscription } from 'rxjs';
import { toError } from '../../core/errors.js';
import { connectRedis, type RedisClient } from './loadRedisClient.js';
import { deliveryInternals, type RedisDelivery } from './RedisDelivery.js';
import { resolveRedisStreamSourceConfig, type RedisStreamSourceConfig } from './RedisStreamSourceConfig.js';
import { claimIdleEntries } from './claimIdleEntries.js';
import { deadLetterEntry } from './deadLetterEntry.js';
import { fieldValue, type RawEntry } from './fieldValue.js';

/** Ids per `XCLAIM … JUSTID` refresh command. */
const REFRESH_CHUNK = 512;

/** A connection name acceptable to `CLIENT SETNAME` (no spaces or newlines). */
function connectionName(consumer: string, role: string): string {
  return `${consumer}:${role}`.replace(/[^\w.:@-]/g, '_');
}

/**
 * Reads a Redis stream as a member of a consumer group and emits one {@link RedisDelivery} per entry: the
 * at-least-once source of several workers sharing one stream (SPEC §10).
 *
 * New entries come from `XREADGROUP`, only while fewer than `maxInFlight` deliveries are unacknowledged (credit-based
 * backpressure: each `ack()` gives one credit back). Every `claimIntervalMs` it takes over entries that another
 * consumer has held for `minIdleMs` without acknowledging them (`XAUTOCLAIM`: that consumer is presumed dead); an
 * entry already delivered more than `maxDeliveries` times is written to the dead-letter stream and acknowledged
 * instead (a poison entry never reaches the model again). Every `refreshIntervalMs` it resets the idle time of the
 * entries it holds (`XCLAIM … JUSTID`), so that entries waiting in a batch queue are never taken from a live worker.
 *
 * ```
 * stream:  --e1--e2--e3----------------e4--
 * source:  --d1--d2--(wait: 2 in flight)--d3--d4--   (maxInFlight 2; d1.ack() after e3 arrived)
 * ```
 *
 * On complete (after `stop` emitted and every delivery is acknowledged), error or unsubscribe, its connections are
 * closed; deliveries still unacknowledged on unsubscribe or error stay pending in Redis and are reclaimed by the
 * other consumers after `minIdleMs`.
 *
 * @example
 * ```ts
 * import { fromRedisStream, toRedisStream } from 'rxjs-inference/redis';
 * fromRedisStream('redis://localhost:6379/requests?group=scorers')
 *   .pipe(
 *     map((delivery) => ({ delivery, data: score(delivery.value) })),
 *     toRedisStream('redis://localhost:6379/scores'),
 *   )
 *   .subscribe();
 * ```
 * @param url `redis://[user:password@]host[:port]/STREAM[?group=GROUP]` (`rediss://` for TLS).
 * @param config See {@link RedisStreamSourceConfig}.
 * @returns The deliveries; never completes unless `stop` emits.
 */
export function fromRedisStream(url: string, config?: RedisStreamSourceConfig): Observable<RedisDelivery<string>> {
  const c = resolveRedisStreamSourceConfig(url, config);
  const { address, group, consumer, field, maxInFlight, readCount, maxDeliveries } = c;
  const stream = address.stream;
  const sameServerDeadLetter = c.deadLetter.serverKey === address.serverKey;

  return new Observable<RedisDelivery<string>>((subscriber) => {
    let closed = false;
    let stopping = false;
    let reader: RedisClient | undefined;
    let control: RedisClient | undefined;
    let deadLetterClient: RedisClient | undefined;
    let readerId: number | undefined;
    let reading = false;
    let claiming = false;
    let poisoning = 0;
    let cursor = '0-0';
    /** Emitted, not yet acknowledged: id → the settle function. */
    const held = new Map<string, { settle: () => void; acked: Promise<void> | undefined }>();
    let ackQueue: { id: string; resolve: () => void; reject: (error: Error) => void }[] = [];
    const clients = (): RedisClient[] =>
      [reader, control, deadLetterClient].filter((x): x is RedisClient => x !== undefined);

    const fail = (error: unknown): void => {
      if (!closed) subscriber.error(toError(error));
    };
    const finishIfDone = (): void => {
      if (stopping && !closed && !reading && !claiming && poisoning === 0 && held.size === 0) subscriber.complete();
    };
    const credit = (): number => maxInFlight - held.size;

    const flushAcks = (): void => {
      const batch = ackQueue;
      ackQueue = [];
      if (batch.length === 0) return;
      control!.call('XACK', stream, group, ...batch.map((a) => a.id)).then(
        () => {
          for (const a of batch) a.resolve();
        },
        (error: unknown) => {
          for (const a of batch) a.reject(toError(error));
        },
      );
    };

    const release = (id: string): void => {
      if (!held.delete(id)) return;
      if (stopping) finishIfDone();
      else void read();
    };

    const emit = (id: string, fields: RawEntry[1], deliveries: number): void => {
      if (held.has(id)) return; // reclaimed from ourselves after a stall: it is already in the pipeline
      let acked: Promise<void> | undefined;
      const entry = { settle: () => release(id), acked };
      held.set(id, entry);
      const delivery: RedisDelivery<string> = {
        id,
        value: fieldValue(fields, field),
        deliveries,
        stream,
        ack: () => {
          if (entry.acked !== undefined) return entry.acked;
          if (closed) return Promise.reject(new Error(`cannot acknowledge ${id}: the source of ${stream} is closed.`));
          entry.acked = new Promise<void>((resolve, reject) => {
            if (ackQueue.length === 0) queueMicrotask(flushAcks);
            ackQueue.push({
              id,
              resolve: () => {
                release(id);
                resolve();
              },
              reject,
            });
          });
          return entry.acked;
        },
      };
      deliveryInternals.set(delivery, {
        serverKey: address.serverKey,
        stream,
        group,
        settle: () => {
          entry.acked ??= Promise.resolve();
          release(id);
        },
      });
      subscriber.next(delivery);
    };

    const read = async (): Promise<void> => {
      if (reading || closed || stopping || reader === undefined) return;
      reading = true;
      try {
        while (!closed && !stopping && credit() > 0) {
          const reply = (await reader.call(
            'XREADGROUP',
            'GROUP',
            group,
            consumer,
            'COUNT',
            Math.min(credit(), readCount),
            'BLOCK',
            c.blockMs,
            'STREAMS',
            stream,
            '>',
          )) as [string, RawEntry[]][] | null;
          if (closed) return;
          // Entries read while a stop was requested are ours already: they go through the pipeline like the others.
          for (const [, entries] of reply ?? []) for (const [id, fields] of entries) emit(id, fields, 1);
        }
      } catch (error) {
        fail(error);
      } finally {
        reading = false;
      }
      finishIfDone();
    };

    const claim = async (): Promise<void> => {
      if (claiming || closed || stopping || control === undefined || credit() <= 0) return;
      claiming = true;
      try {
        const claimed = await claimIdleEntries(control, c, cursor, Math.min(credit(), readCount), held.size);
        cursor = claimed.cursor;
        for (const { id, fields, deliveries } of claimed.entries) {
          if (closed) return;
          if (deliveries > maxDeliveries) {
            poisoning++;
            const entry = { id, value: fieldValue(fields, field), deliveries, stream };
            deadLetterEntry(control, sameServerDeadLetter ? undefined : deadLetterClient, c, entry)
              .catch(fail)
              .finally(() => {
                poisoning--;
                finishIfDone();
              });
          } else {
            emit(id, fields, deliveries);
          }
        }
      } catch (error) {
        fail(error);
      } finally {
        claiming = false;
      }
      finishIfDone();
    };

    const refresh = (): void => {
      if (closed || control === undefined || held.size === 0) return;
      const ids = [...held.keys()];
      for (let i = 0; i < ids.length; i += REFRESH_CHUNK) {
        // Idle time 0: every entry still pending is refreshed; one already acknowledged is not in the PEL any more.
        control
          .call('XCLAIM', stream, group, consumer, 0, ...ids.slice(i, i + REFRESH_CHUNK), 'JUSTID')
          .catch((error: unknown) => c.onConnectionError(toError(error)));
      }
    };

    const every = (periodMs: number, task: () => void): Subscription =>
      c.scheduler.schedule(function (this: SchedulerAction<undefined>) {
        task();
        this.schedule(undefined, periodMs);
      }, periodMs);

    const beginStop = (): void => {
      if (stopping || closed) return;
      stopping = true;
      // Wake the blocked XREADGROUP now rather than after blockMs (it returns what it has, if anything).
      if (reading && readerId !== undefined) {
        control?.call('CLIENT', 'UNBLOCK', readerId).catch(() => undefined);
      }
      finishIfDone();
    };

    const start = async (): Promise<void> => {
      control = await connectRedis(address, connectionName(consumer, 'control'), c.onConnectionError);
      if (closed) return void control.disconnect();
      reader = await connectRedis(address, connectionName(consumer, 'reader'), c.onConnectionError);
      if (closed) return void reader.disconnect();
      readerId = Number(await reader.call('CLIENT', 'ID'));
      if (!sameServerDeadLetter) {
        deadLetterClient = await connectRedis(
          c.deadLetter,
          connectionName(consumer, 'dead-letter'),
          c.onConnectionError,
        );
        if (closed) return void deadLetterClient.disconnect();
      }
      await control.call('XGROUP', 'CREATE', stream, group, c.startId, 'MKSTREAM').catch((error: unknown) => {
        if (!/BUSYGROUP/.test(toError(error).message)) throw error;
      });
      if (closed) return;
      subscriber.add(every(c.claimIntervalMs, () => void claim()));
      subscriber.add(every(c.refreshIntervalMs, refresh));
      if (c.stop !== undefined) subscriber.add(from(c.stop).pipe(take(1)).subscribe(beginStop));
      await claim();
      void read();
      finishIfDone();
    };

    start().catch(fail);

    return () => {
      closed = true;
      const rejected = ackQueue;
      ackQueue = [];
      for (const a of rejected) a.reject(new Error(`cannot acknowledge ${a.id}: the source of ${stream} is closed.`));
      for (const client of clients()) {
        if (stopping && held.size === 0 && client !== reader) {
          client.quit().catch(() => client.disconnect());
        } else {
          client.disconnect();
        }
      }
    };
  });
}
