import { hostname } from 'node:os';
import { asyncScheduler, type ObservableInput, type SchedulerLike } from 'rxjs';
import { checkFunction, checkNumber, checkObject, checkScheduler } from '../../core/validate.js';
import { parseRedisStreamUrl, type RedisStreamAddress } from './redisUrl.js';

/** A stream entry as read, before it becomes a delivery (what {@link RedisStreamSourceConfig.poisonData} sees). */
export interface RedisStreamEntry {
  readonly id: string;
  readonly value: string;
  readonly deliveries: number;
  readonly stream: string;
}

/**
 * Options of {@link fromRedisStream}. Each numeric option can also be given as a query parameter of the URL
 * (`redis://host/in?group=g&minIdleMs=60000`); a field of this object wins over the URL.
 */
export interface RedisStreamSourceConfig {
  /** The consumer group (created at `startId`, with the stream, when missing). @default the URL's `?group=` (required) */
  readonly group?: string;
  /** This consumer's name within the group: unique per process. @default `?consumer=`, else `HOST-PID-RANDOM` */
  readonly consumer?: string;
  /** The entry field that holds the value. @default 'data' */
  readonly field?: string;
  /** Deliveries emitted but not yet acknowledged, at most: reading waits for acks beyond it (backpressure). @default 256 */
  readonly maxInFlight?: number;
  /** Entries asked for per `XREADGROUP` / `XAUTOCLAIM`. @default min(maxInFlight, 128) */
  readonly readCount?: number;
  /** How long one `XREADGROUP` waits for new entries (also the longest a stop waits for it). @default 1000 */
  readonly blockMs?: number;
  /**
   * An entry pending this long with another consumer is taken over (`XAUTOCLAIM`): that consumer is presumed dead.
   * It must exceed `refreshIntervalMs` plus the longest the event loop of a live worker can stall (the longest model
   * run on the main thread), see docs/scale-out.md. @default 30000
   */
  readonly minIdleMs?: number;
  /** Time between two `XAUTOCLAIM` rounds. @default min(minIdleMs / 2, 5000) */
  readonly claimIntervalMs?: number;
  /**
   * Time between two refreshes of the entries this consumer holds (`XCLAIM … JUSTID`, which resets their idle time):
   * an entry waiting in a batch queue is never taken from a live worker. @default minIdleMs / 3
   */
  readonly refreshIntervalMs?: number;
  /** An entry delivered more times than this goes to the dead-letter stream without being emitted. @default 5 */
  readonly maxDeliveries?: number;
  /** The dead-letter stream (a Redis stream URL). @default the input's server, stream `STREAM:dead-letter` */
  readonly deadLetter?: string;
  /** The `data` field of a poison entry's dead letter. @default a JSON object with the entry and the reason */
  readonly poisonData?: (entry: RedisStreamEntry, maxDeliveries: number) => string;
  /** Called for each poison entry once its dead letter is written (for logs and counts). */
  readonly onPoison?: (entry: RedisStreamEntry) => void;
  /** Called with each connection error (the client reconnects by itself). */
  readonly onConnectionError?: (error: Error) => void;
  /** Where a new group starts: `0` (every entry of the stream) or `$` (only entries added later). @default '0' */
  readonly startId?: string;
  /**
   * Graceful stop: when it emits, reading stops and the source completes once every emitted delivery is
   * acknowledged (unsubscribing instead drops what is held: other consumers reclaim it after `minIdleMs`).
   */
  readonly stop?: ObservableInput<unknown>;
  /** Times the claim and refresh rounds. @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
}

/** The config with its defaults applied (see {@link RedisStreamSourceConfig}). */
export interface ResolvedRedisStreamSourceConfig {
  readonly address: RedisStreamAddress;
  readonly deadLetter: RedisStreamAddress;
  readonly group: string;
  readonly consumer: string;
  readonly field: string;
  readonly maxInFlight: number;
  readonly readCount: number;
  readonly blockMs: number;
  readonly minIdleMs: number;
  readonly claimIntervalMs: number;
  readonly refreshIntervalMs: number;
  readonly maxDeliveries: number;
  readonly poisonData: (entry: RedisStreamEntry, maxDeliveries: number) => string;
  readonly onPoison: ((entry: RedisStreamEntry) => void) | undefined;
  readonly onConnectionError: (error: Error) => void;
  readonly startId: string;
  readonly stop: ObservableInput<unknown> | undefined;
  readonly scheduler: SchedulerLike;
}

const NUMERIC_PARAMS = [
  'maxInFlight',
  'readCount',
  'blockMs',
  'minIdleMs',
  'claimIntervalMs',
  'refreshIntervalMs',
  'maxDeliveries',
] as const;

function defaultConsumer(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

function defaultPoisonData(entry: RedisStreamEntry, maxDeliveries: number): string {
  return JSON.stringify({
    id: entry.id,
    stage: 'delivery',
    error: 'MaxDeliveriesExceeded',
    reason: `delivered ${entry.deliveries} times, over maxDeliveries ${maxDeliveries}: not run again`,
    raw: entry.value,
  });
}

/** The same server, another stream. */
export function withStream(address: RedisStreamAddress, stream: string): RedisStreamAddress {
  return {
    ...address,
    stream,
    display: address.display.slice(0, address.display.length - address.stream.length) + stream,
  };
}

/** Applies the defaults and validates (a `TypeError` or `RangeError` naming the field), before any connection. */
export function resolveRedisStreamSourceConfig(
  url: string,
  config: RedisStreamSourceConfig | undefined,
): ResolvedRedisStreamSourceConfig {
  checkObject('config', config);
  const address = parseRedisStreamUrl(url);
  const fromUrl: Record<string, number> = {};
  for (const name of NUMERIC_PARAMS) {
    const text = address.params.get(name);
    if (text === null) continue;
    const value = Number(text);
    checkNumber(`?${name}=`, text.trim() === '' ? text : value, { min: 1, integer: true });
    fromUrl[name] = value;
  }
  const c = { ...fromUrl, ...config };
  const group = config?.group ?? address.params.get('group') ?? undefined;
  if (typeof group !== 'string' || group === '') {
    throw new TypeError(
      `Expected \`group\` (or ?group= in the URL) to be a non-empty string, got ${JSON.stringify(group)}.`,
    );
  }
  const consumer = config?.consumer ?? address.params.get('consumer') ?? defaultConsumer();
  if (typeof consumer !== 'string' || consumer === '') {
    throw new TypeError(`Expected \`consumer\` to be a non-empty string, got ${JSON.stringify(consumer)}.`);
  }
  const {
    field = 'data',
    maxInFlight = 256,
    blockMs = 1000,
    minIdleMs = 30000,
    maxDeliveries = 5,
    startId = '0',
    poisonData = defaultPoisonData,
    onPoison,
    onConnectionError = () => undefined,
    scheduler = asyncScheduler,
  } = c;
  for (const name of NUMERIC_PARAMS) checkNumber(name, c[name], { min: 1, integer: true });
  checkFunction('poisonData', poisonData);
  checkFunction('onPoison', onPoison);
  checkFunction('onConnectionError', onConnectionError);
  checkScheduler('scheduler', scheduler);
  const { readCount = Math.min(maxInFlight, 128), claimIntervalMs = Math.min(minIdleMs / 2, 5000) } = c;
  const refreshIntervalMs = c.refreshIntervalMs ?? Math.max(1, Math.floor(minIdleMs / 3));
  if (refreshIntervalMs >= minIdleMs) {
    throw new RangeError(
      `Expected \`refreshIntervalMs\` to be below \`minIdleMs\` (${minIdleMs}), got ${refreshIntervalMs}: held entries would look idle to other consumers.`,
    );
  }
  const deadLetter =
    config?.deadLetter === undefined
      ? withStream(address, `${address.stream}:dead-letter`)
      : parseRedisStreamUrl(config.deadLetter, 'deadLetter');
  return {
    address,
    deadLetter,
    group,
    consumer,
    field,
    maxInFlight,
    readCount,
    blockMs,
    minIdleMs,
    claimIntervalMs,
    refreshIntervalMs,
    maxDeliveries,
    poisonData,
    onPoison,
    onConnectionError,
    startId,
    stop: c.stop,
    scheduler,
  };
}
