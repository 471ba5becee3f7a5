import { messageOf, MissingRuntimeError } from '../../core/errors.js';
import type { RedisStreamAddress } from './redisUrl.js';

/**
 * The few client methods the connector uses (ioredis's `Redis`), typed here so that no public type of this package
 * mentions ioredis: only `rxjs-inference/redis` users need it installed, and only when a stream is opened.
 */
export interface RedisClient {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  multi(): RedisMulti;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  readonly status: string;
}

/** A `MULTI` … `EXEC` transaction, sent in one round trip. */
export interface RedisMulti {
  call(command: string, ...args: (string | number)[]): RedisMulti;
  exec(): Promise<[Error | null, unknown][] | null>;
}

type RedisConstructor = new (options: Record<string, unknown>) => RedisClient;

let ioredis: Promise<RedisConstructor> | undefined;

/**
 * Loads `ioredis` on first use (never when this package is imported). A missing install gives
 * `MissingRuntimeError('ioredis')`.
 */
export function loadRedisClient(): Promise<RedisConstructor> {
  ioredis ??= import('ioredis').then(
    (m) => {
      const module = m as unknown as { default?: unknown; Redis?: unknown };
      return (module.Redis ?? module.default) as RedisConstructor;
    },
    (error: unknown) => {
      ioredis = undefined;
      throw new MissingRuntimeError('ioredis', { cause: error, neededBy: 'A Redis stream' });
    },
  );
  return ioredis;
}

/** How long a first connection may take before the stream fails to open. */
const CONNECT_TIMEOUT_MS = 10000;

/**
 * Opens one connection and waits until it answers. Once open, the client reconnects by itself forever (a Redis
 * restart only pauses the work: commands wait in its offline queue and are sent again); `onError` sees each
 * connection error (the client would otherwise print them). Errors never show credentials.
 */
export async function connectRedis(
  address: RedisStreamAddress,
  name: string,
  onError: (error: Error) => void = () => undefined,
): Promise<RedisClient> {
  const Redis = await loadRedisClient();
  // No retry while the first connection is made: an unreachable server is an error now, not a reconnect loop.
  let opened = false;
  const client = new Redis({
    host: address.host,
    port: address.port,
    db: address.db,
    ...(address.username !== undefined && { username: address.username }),
    ...(address.password !== undefined && { password: address.password }),
    ...(address.tls && { tls: { servername: address.host } }),
    connectionName: name,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => (opened ? Math.min(50 * times, 1000) : null),
  });
  // Errors of the first connection reject below; later ones (the client reconnects by itself) go to `onError`.
  client.on('error', (error) => {
    if (opened) onError(error);
  });
  const first = new Promise<never>((_, reject) => {
    client.on('error', reject);
  });
  let connecting: Promise<void> | undefined;
  try {
    connecting = (client as unknown as { connect(): Promise<void> }).connect();
    await Promise.race([connecting, first]);
    await client.call('PING');
    opened = true;
    return client;
  } catch (error) {
    // Once the client has ended by itself, disconnect() would only leave a 2 s timer behind (ioredis 5): let a
    // refused connection end first.
    await Promise.race([connecting?.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 50))]);
    if (client.status !== 'end') client.disconnect();
    const why = messageOf(error);
    throw new Error(`cannot connect to ${address.display}: ${why}`, { cause: error });
  }
}
