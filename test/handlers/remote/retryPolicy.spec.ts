import { InferenceTimeoutError, HttpError, isRetryableError } from '../../../src/index';
import { RequestSemaphore } from '../../../src/handlers/remote/RequestSemaphore';
import {
  backoffDelay,
  isAcceptedAnswer,
  parseRetryAfter,
  resolveRetry,
  retryAfterOf,
  statusOf,
} from '../../../src/handlers/remote/retryPolicy';

describe('backoffDelay (full jitter)', () => {
  const policy = resolveRetry({ initialDelayMs: 100, factor: 2, maxDelayMs: 1000 });
  it('is uniform below min(maxDelayMs, initialDelayMs · factor^(retry − 1))', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 0.999999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect([1, 2, 3].map((n) => backoffDelay(n, policy, () => 0))).toEqual([0, 0, 0]);
    expect(backoffDelay(3, policy, () => 0.25)).toBe(100);
  });
  it('has documented defaults', () => {
    expect(resolveRetry(undefined)).toEqual({ maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 30_000, factor: 2 });
  });
});

describe('isRetryableError', () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    ['HTTP 429', new HttpError(429), true],
    ['HTTP 500', new HttpError(500), true],
    ['HTTP 503 as statusCode', Object.assign(new Error('x'), { statusCode: 503 }), true],
    ['HTTP 502 as response.status', Object.assign(new Error('x'), { response: { status: 502 } }), true],
    ['HTTP 400', new HttpError(400), false],
    ['HTTP 401', new HttpError(401), false],
    ['HTTP 404', new HttpError(404), false],
    ['HTTP 408', new HttpError(408), false],
    ['ECONNRESET', withCode('ECONNRESET'), true],
    ['ECONNREFUSED', withCode('ECONNREFUSED'), true],
    ['ETIMEDOUT', withCode('ETIMEDOUT'), true],
    ['EPIPE', withCode('EPIPE'), true],
    ['EAI_AGAIN', withCode('EAI_AGAIN'), true],
    ['ENOTFOUND (a wrong host stays wrong)', withCode('ENOTFOUND'), false],
    ['fetch failed', new TypeError('fetch failed'), true],
    ['fetch failed with an undici cause', new TypeError('x', { cause: withCode('UND_ERR_SOCKET') }), true],
    ['the per-request timeout', new InferenceTimeoutError('slow', 10), true],
    ['a JSON parse error', new SyntaxError('Unexpected end of JSON input'), false],
    ['an abort', new DOMException('aborted', 'AbortError'), false],
    ['a plain Error', new Error('bug'), false],
    ['a string', 'oops', false],
    ['null', null, false],
  ])('%s → %p', (_name, error, expected) => {
    expect(isRetryableError(error)).toBe(expected);
  });

  it('reads statuses only when they are HTTP status codes', () => {
    expect(statusOf({ status: 'x' })).toBeUndefined();
    expect(statusOf({ status: 42 })).toBeUndefined();
    expect(statusOf({ status: 200.5 })).toBeUndefined();
    expect(statusOf(undefined)).toBeUndefined();
    expect(statusOf({ status: 418 })).toBe(418);
  });

  it('counts answers without overload as accepts for the throttler', () => {
    expect(isAcceptedAnswer(new HttpError(400))).toBe(true);
    expect(isAcceptedAnswer(new HttpError(429))).toBe(false);
    expect(isAcceptedAnswer(new HttpError(503))).toBe(false);
    expect(isAcceptedAnswer(new TypeError('fetch failed'))).toBe(false);
  });
});

describe('Retry-After', () => {
  it('parses delta-seconds and HTTP dates against the given clock', () => {
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(' 1.5 ', 0)).toBe(1500);
    expect(parseRetryAfter(2, 0)).toBe(2000);
    expect(parseRetryAfter(-1, 0)).toBeUndefined();
    const date = 'Wed, 21 Oct 2015 07:28:00 GMT';
    expect(parseRetryAfter(date, Date.parse(date) - 3000)).toBe(3000);
    expect(parseRetryAfter(date, Date.parse(date) + 3000)).toBe(0);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('reads retryAfterMs, retryAfter, headers and response.headers, in that order', () => {
    expect(retryAfterOf(new HttpError(429, 'x', { retryAfterMs: 250 }), 0)).toBe(250);
    expect(retryAfterOf({ retryAfter: '3' }, 0)).toBe(3000);
    expect(retryAfterOf({ retryAfter: 'garbage', headers: { 'retry-after': '4' } }, 0)).toBe(4000);
    expect(retryAfterOf({ headers: { 'Retry-After': ['5'] } }, 0)).toBe(5000);
    expect(retryAfterOf({ headers: new Headers({ 'Retry-After': '6' }) }, 0)).toBe(6000);
    expect(retryAfterOf({ response: { headers: new Headers({ 'retry-after': '7' }) } }, 0)).toBe(7000);
    expect(retryAfterOf({ response: { headers: { 'x-other': '1' } } }, 0)).toBeUndefined();
    expect(retryAfterOf(new Error('no hint'), 0)).toBeUndefined();
    expect(retryAfterOf('text', 0)).toBeUndefined();
  });
});

describe('HttpError', () => {
  it('keeps status, body, headers and a seconds Retry-After', async () => {
    const response = new Response('{"error":"quota"}', {
      status: 429,
      statusText: 'Too Many Requests',
      headers: { 'retry-after': '2' },
    });
    const error = await HttpError.fromResponse(response);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ name: 'HttpError', status: 429, retryAfterMs: 2000, body: '{"error":"quota"}' });
    expect(error.message).toBe('HTTP 429 Too Many Requests: {"error":"quota"}');
    expect(isRetryableError(error)).toBe(true);
  });

  it('leaves an HTTP-date Retry-After to the handler (read from headers against its clock)', async () => {
    const when = 'Wed, 21 Oct 2015 07:28:00 GMT';
    const error = await HttpError.fromResponse(new Response(null, { status: 503, headers: { 'retry-after': when } }));
    expect(error.retryAfterMs).toBeUndefined();
    expect(retryAfterOf(error, Date.parse(when) - 1000)).toBe(1000);
    expect(error.message).toBe('HTTP 503');
  });

  it('cuts long bodies in the message and survives an unreadable body', async () => {
    const long = await HttpError.fromResponse(new Response('x'.repeat(5000), { status: 500 }));
    expect(long.message.length).toBeLessThan(2100);
    expect(long.body).toHaveLength(5000);
    const response = new Response('body', { status: 502 });
    await response.text(); // consumed: text() now throws
    const unreadable = await HttpError.fromResponse(response);
    expect(unreadable).toMatchObject({ status: 502, body: undefined });
  });

  it('can be built directly, with a cause', () => {
    const cause = new Error('upstream');
    const error = new HttpError(500, undefined, { cause });
    expect(error.message).toBe('HTTP 500');
    expect(error.cause).toBe(cause);
  });
});

describe('RequestSemaphore', () => {
  it('grants up to its limit, queues the rest first come first served, and lets queued tickets leave', () => {
    const semaphore = new RequestSemaphore(2);
    const granted: string[] = [];
    const a = semaphore.acquire(() => granted.push('a'));
    const b = semaphore.acquire(() => granted.push('b'));
    const c = semaphore.acquire(() => granted.push('c'));
    const d = semaphore.acquire(() => granted.push('d'));
    expect(granted).toEqual(['a', 'b']);
    expect([a.waiting, c.waiting, semaphore.inFlight, semaphore.queued]).toEqual([false, true, 2, 2]);
    c.release(); // leaves the queue
    expect(semaphore.queued).toBe(1);
    a.release();
    a.release(); // idempotent
    expect(granted).toEqual(['a', 'b', 'd']);
    expect(d.waiting).toBe(false);
    b.release();
    d.release();
    c.release();
    expect([semaphore.inFlight, semaphore.queued, semaphore.maxInFlight]).toEqual([0, 0, 2]);
  });

  it('re-enters safely when a grant releases at once', () => {
    const semaphore = new RequestSemaphore(1);
    const order: string[] = [];
    semaphore.acquire((t) => {
      order.push('x');
      t.release();
    });
    semaphore.acquire((t) => {
      order.push('y');
      t.release();
    });
    expect(order).toEqual(['x', 'y']);
    expect(semaphore.inFlight).toBe(0);
  });
});
