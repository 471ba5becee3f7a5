/** Headers as `fetch` (a `Headers` object) or Node's `http` module (a plain record) give them. */
export type HeadersLike =
  { get(name: string): string | null } | Readonly<Record<string, string | string[] | undefined>>;

/** Options of an {@link HttpError}. */
export interface HttpErrorOptions {
  /** How long the server asked the client to wait before retrying (from `Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number;
  /** The response body (text or parsed), for the dead-letter record. */
  readonly body?: unknown;
  /** The response headers; a `Retry-After` given as an HTTP date is read from here by `RemoteModelHandler`. */
  readonly headers?: HeadersLike;
  /** The original error, if any. */
  readonly cause?: unknown;
}

/**
 * A remote model answered with an HTTP error status. Throw it (or reject with it) from `RemoteModelHandler`'s
 * `request` so that the handler's default `retryFilter` can tell a retryable answer (429, 5xx) from a final one
 * (other 4xx), and honour the server's `Retry-After`.
 *
 * The handler does not need this class: it reads `status` (or `statusCode`, or `response.status`) and `Retry-After`
 * (`retryAfterMs`, `retryAfter` in seconds or as an HTTP date, or a `retry-after` header in `headers` or
 * `response.headers`) from any error, so errors of HTTP client libraries work as they are.
 *
 * @example
 * ```ts
 * import { HttpError } from 'rxjs-inference/handlers';
 *
 * const response = await fetch(url, { method: 'POST', body, signal });
 * if (!response.ok) throw await HttpError.fromResponse(response);
 * ```
 */
export class HttpError extends Error {
  override readonly name = 'HttpError' as const;
  /** Server-requested wait before retrying, in milliseconds, when `Retry-After` was given in seconds. */
  readonly retryAfterMs: number | undefined;
  /** The response body, when it was read. */
  readonly body: unknown;
  /** The response headers, when given. */
  readonly headers: HeadersLike | undefined;

  constructor(
    /** The HTTP status code. */
    readonly status: number,
    message?: string,
    options: HttpErrorOptions = {},
  ) {
    super(message ?? `HTTP ${status}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
    this.body = options.body;
    this.headers = options.headers;
  }

  /**
   * Builds an `HttpError` from a `fetch` `Response` that is not ok: reads the body as text (at most 2,000 characters
   * are kept in the message) and a `Retry-After` given in seconds. A `Retry-After` given as an HTTP date stays in
   * `headers`; the handler converts it against its scheduler's clock.
   */
  static async fromResponse(response: Response): Promise<HttpError> {
    let body: string | undefined;
    try {
      body = await response.text();
    } catch {
      body = undefined;
    }
    const header = response.headers.get('retry-after');
    const seconds = header !== null && /^\s*\d+(\.\d+)?\s*$/.test(header) ? Number(header) * 1000 : undefined;
    const detail = body ? `: ${body.length > 2000 ? `${body.slice(0, 1997)}...` : body}` : '';
    return new HttpError(response.status, `HTTP ${response.status} ${response.statusText}`.trim() + detail, {
      retryAfterMs: seconds,
      body,
      headers: response.headers,
    });
  }
}
