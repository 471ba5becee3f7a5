/** A Redis stream address parsed from `redis://[user[:password]@]host[:port]/STREAM[?param=value…]`. */
export interface RedisStreamAddress {
  readonly host: string;
  readonly port: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** `rediss://`: TLS. */
  readonly tls: boolean;
  /** `?db=N`. @default 0 */
  readonly db: number;
  /** The stream key (the URL's path, percent-decoded). */
  readonly stream: string;
  /** The query parameters (`group`, `consumer`, …), read by the source. */
  readonly params: URLSearchParams;
  /** The address without credentials or parameters, safe for logs: `redis://host:port/STREAM`. */
  readonly display: string;
  /** Identifies the server and credentials: two addresses with one key can share a connection and a `MULTI`. */
  readonly serverKey: string;
}

/** Where a credential-free description of a URL is needed and the URL does not parse. */
function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** Whether `text` is a Redis URL (`redis://` or `rediss://`), i.e. a stream rather than a file. */
export function isRedisUrl(text: string | undefined): boolean {
  return text !== undefined && /^rediss?:\/\//i.test(text);
}

/**
 * Parses a Redis stream URL, as Redis clients read Redis URLs (credentials, `rediss://` for TLS) except that the
 * path names the stream (the database is `?db=N`). Errors name the option and never show the credentials.
 */
export function parseRedisStreamUrl(url: string, option = 'url'): RedisStreamAddress {
  const fail = (why: string): never => {
    throw new TypeError(
      `Expected \`${option}\` to be redis://[user:password@]host[:port]/STREAM, got \`${redact(url)}\`: ${why}.`,
    );
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail('not a URL');
  }
  const scheme = parsed.protocol.toLowerCase();
  if (scheme !== 'redis:' && scheme !== 'rediss:') fail('the scheme must be redis:// or rediss://');
  if (parsed.hostname === '') fail('no host');
  const stream = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (stream === '') fail('no stream name after the host');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbText = parsed.searchParams.get('db') ?? '0';
  const db = Number(dbText);
  if (!Number.isInteger(db) || db < 0) fail(`db \`${dbText}\` is not a non-negative integer`);
  const tls = scheme === 'rediss:';
  const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  // IPv6 hosts keep their brackets in `hostname`; the client wants them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const origin = `${tls ? 'rediss' : 'redis'}://${parsed.host}`;
  return {
    host,
    port,
    username,
    password,
    tls,
    db,
    stream,
    params: parsed.searchParams,
    display: `${origin}/${stream}`,
    serverKey: JSON.stringify([tls, host, port, db, username ?? null, password ?? null]),
  };
}
