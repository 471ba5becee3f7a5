import { InferenceTimeoutError } from '../../core/errors.js';
import { checkNumber, checkObject } from '../../core/validate.js';

/** How `RemoteModelHandler` retries a failed request: exponential backoff with full jitter. */
export interface RetryConfig {
  /** Requests sent per batch at most, the first one included (`1` = never retry). @default 5 */
  readonly maxAttempts?: number;
  /** Backoff cap before the first retry, in milliseconds. @default 1000 */
  readonly initialDelayMs?: number;
  /** Largest backoff cap, in milliseconds (a server's `Retry-After` may ask for longer, and is honoured). @default 30000 */
  readonly maxDelayMs?: number;
  /** Growth of the backoff cap per retry. @default 2 */
  readonly factor?: number;
}

/** `RetryConfig` with its defaults applied. */
export type ResolvedRetry = Required<RetryConfig>;

/** Applies the defaults of `RetryConfig` and validates it (field names prefixed with `retry.`). */
export function resolveRetry(config: RetryConfig | undefined): ResolvedRetry {
  checkObject('retry', config);
  const { maxAttempts = 5, initialDelayMs = 1000, maxDelayMs = 30_000, factor = 2 } = config ?? {};
  checkNumber('retry.maxAttempts', maxAttempts, { min: 1, integer: true });
  checkNumber('retry.initialDelayMs', initialDelayMs, { min: 0 });
  checkNumber('retry.maxDelayMs', maxDelayMs, { min: 0 });
  checkNumber('retry.factor', factor, { min: 1 }, 'a number >= 1');
  if (maxDelayMs < initialDelayMs) {
    throw new RangeError(
      `Expected \`retry.maxDelayMs\` to be at least \`retry.initialDelayMs\` (${initialDelayMs}), got \`${maxDelayMs}\` (number).`,
    );
  }
  return { maxAttempts, initialDelayMs, maxDelayMs, factor };
}

/**
 * Wait before retry number `retry` (1 = the first retry), with "full jitter" (AWS architecture blog, "Exponential
 * Backoff And Jitter"): uniform in `[0, min(maxDelayMs, initialDelayMs · factor^(retry − 1)))`. Full jitter spreads
 * the retries of many clients that failed together, which is what overloads a recovering backend.
 */
export function backoffDelay(retry: number, policy: ResolvedRetry, random: () => number): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * Math.pow(policy.factor, retry - 1));
  return Math.floor(random() * cap);
}

/** Error codes of Node (`net`, `dns`) and undici (the engine of `fetch`) that mean "the network failed". */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

type Bag = Record<string, unknown>;

function asBag(value: unknown): Bag | undefined {
  return value !== null && typeof value === 'object' ? (value as Bag) : undefined;
}

/** The HTTP status an error carries: `status`, `statusCode` or `response.status`. */
export function statusOf(error: unknown): number | undefined {
  const bag = asBag(error);
  if (!bag) return undefined;
  for (const candidate of [bag.status, bag.statusCode, asBag(bag.response)?.status]) {
    if (typeof candidate === 'number' && Number.isInteger(candidate) && candidate >= 100 && candidate <= 599) {
      return candidate;
    }
  }
  return undefined;
}

function isNetworkError(error: unknown): boolean {
  // Follow the cause chain a few levels: fetch throws TypeError('fetch failed') with the socket error as cause.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const bag = asBag(current);
    if (!bag) return false;
    if (typeof bag.code === 'string' && NETWORK_CODES.has(bag.code)) return true;
    if (current instanceof TypeError && current.message === 'fetch failed') return true;
    current = bag.cause;
  }
  return false;
}

/**
 * The default `retryFilter` of `RemoteModelHandler`: retries network errors (`ECONNRESET`, `ECONNREFUSED`,
 * `ETIMEDOUT`, `EPIPE`, `EAI_AGAIN` and their undici equivalents, `fetch failed`), the handler's own per-request
 * timeout, and answers whose `status` is 429 or ≥ 500. Never other 4xx: the same request would fail again, and
 * every call costs quota. Anything else (a parse error of the body, a bug in `request`) is not retried.
 */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof InferenceTimeoutError) return true;
  const status = statusOf(error);
  if (status !== undefined) return status === 429 || status >= 500;
  return isNetworkError(error);
}

/** Whether the backend answered without signalling overload (an "accept" for the adaptive throttler). */
export function isAcceptedAnswer(error: unknown): boolean {
  const status = statusOf(error);
  return status !== undefined && status !== 429 && status < 500;
}

function headerValue(headers: unknown, name: string): string | undefined {
  const bag = asBag(headers);
  if (!bag) return undefined;
  if (typeof bag.get === 'function') {
    const value = (bag.get as (n: string) => unknown).call(headers, name);
    return typeof value === 'string' ? value : undefined;
  }
  for (const [key, value] of Object.entries(bag)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}

/** Parses a `Retry-After` value: delta-seconds, or an HTTP date compared with `nowMs`. Never negative. */
export function parseRetryAfter(value: string | number, nowMs: number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * The wait, in milliseconds, a server asked for on this error: `retryAfterMs`, else `retryAfter` (seconds or an HTTP
 * date), else a `retry-after` header in `headers` or `response.headers`. HTTP dates are compared with `nowMs` (the
 * handler's scheduler clock).
 */
export function retryAfterOf(error: unknown, nowMs: number): number | undefined {
  const bag = asBag(error);
  if (!bag) return undefined;
  if (typeof bag.retryAfterMs === 'number' && Number.isFinite(bag.retryAfterMs) && bag.retryAfterMs >= 0) {
    return bag.retryAfterMs;
  }
  if (typeof bag.retryAfter === 'number' || typeof bag.retryAfter === 'string') {
    const parsed = parseRetryAfter(bag.retryAfter, nowMs);
    if (parsed !== undefined) return parsed;
  }
  const header = headerValue(bag.headers, 'retry-after') ?? headerValue(asBag(bag.response)?.headers, 'retry-after');
  return header === undefined ? undefined : parseRetryAfter(header, nowMs);
}
