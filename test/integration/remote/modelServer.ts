import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { HttpError } from '../../../src/index';

/** What the test server does with one request. */
export type Fault =
  | { readonly kind: 'ok'; readonly delayMs?: number }
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string }
  | { readonly kind: 'reset' }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'malformed' };

/** One request as the server saw it (times from `performance.now()`). */
export interface Arrival {
  readonly index: number;
  /** The client's `x-request-id` header, when sent. */
  readonly id: string | undefined;
  /** When the request reached the server. */
  readonly startedAt: number;
  /** When its body was read and its fault chosen. */
  readonly at: number;
  /** When the server handed over the answer or saw the connection close. */
  endedAt: number | undefined;
  readonly inputs: readonly number[];
  readonly fault: Fault['kind'];
}

/**
 * A real HTTP "model" on 127.0.0.1 (an ephemeral port): POST /predict with `{ inputs: number[] }` answers
 * `{ outputs: inputs × 2 }`, or the fault `plan` chooses for the request. It counts requests in flight (from arrival
 * until the response is finished or the connection closes) so tests can check a client's concurrency cap where it
 * matters: at the server.
 */
export class ModelServer {
  readonly arrivals: Arrival[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private plan: (inputs: readonly number[], index: number) => Fault) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  static async start(plan: (inputs: readonly number[], index: number) => Fault = () => ({ kind: 'ok' })) {
    const server = new ModelServer(plan);
    await new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/predict`;
  }

  /** Changes what the server does from now on, and forgets what it saw. */
  reset(plan: (inputs: readonly number[], index: number) => Fault): void {
    this.plan = plan;
    this.arrivals.length = 0;
    this.maxInFlight = this.inFlight;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /**
   * Most requests in flight at once, where a request the client aborted ends at `abortedAt(id)` if that is earlier
   * than when the server noticed the closed connection. (Client and server share this process's event loop: a new
   * request can reach the server before the close of one the client has just aborted, which the raw `maxInFlight`
   * then counts as one too many although the client had already given up on it.)
   */
  maxInFlightGivenAborts(abortedAt: (id: string) => number | undefined): number {
    const edges: [number, number][] = [];
    for (const a of this.arrivals) {
      const aborted = a.id === undefined ? undefined : abortedAt(a.id);
      const end = Math.min(a.endedAt ?? Infinity, aborted ?? Infinity);
      edges.push([a.startedAt, 1], [end, -1]);
    }
    // Ends sort before starts at the same instant.
    edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let now = 0;
    let max = 0;
    for (const [, delta] of edges) max = Math.max(max, (now += delta));
    return max;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = performance.now();
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let open = true;
    let arrival: Arrival | undefined;
    const done = () => {
      if (!open) return;
      open = false;
      this.inFlight--;
      if (arrival) arrival.endedAt = performance.now();
    };
    // Ended for the server once the answer is handed to the OS ('finish'), or the connection closed ('close').
    res.on('finish', done);
    res.on('close', done);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const inputs = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { inputs: number[] }).inputs;
      const index = this.arrivals.length;
      const fault = this.plan(inputs, index);
      const id = req.headers['x-request-id'];
      arrival = {
        index,
        id: typeof id === 'string' ? id : undefined,
        startedAt,
        at: performance.now(),
        endedAt: open ? undefined : performance.now(),
        inputs,
        fault: fault.kind,
      };
      this.arrivals.push(arrival);
      const reply = (status: number, body: string, headers: Record<string, string> = {}) => {
        if (!open) return;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(body);
      };
      const ok = () => reply(200, JSON.stringify({ outputs: inputs.map((x) => x * 2) }));
      switch (fault.kind) {
        case 'ok':
          return fault.delayMs ? this.later(ok, fault.delayMs) : ok();
        case 'slow':
          return this.later(ok, fault.delayMs);
        case 'status':
          return reply(
            fault.status,
            JSON.stringify({ error: `status ${fault.status}` }),
            fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter },
          );
        case 'reset':
          done();
          req.socket.destroy();
          return;
        case 'malformed':
          return reply(200, '{"outputs": [1, 2');
      }
    });
  }
}

/** The `request` of a RemoteModelHandler that scores through the server with fetch. */
export async function fetchPredict(
  url: string,
  batch: readonly number[],
  signal: AbortSignal,
  requestId?: string,
): Promise<readonly number[]> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(requestId === undefined ? {} : { 'x-request-id': requestId }) },
    body: JSON.stringify({ inputs: batch }),
    signal,
  });
  if (!response.ok) throw await HttpError.fromResponse(response);
  return ((await response.json()) as { outputs: number[] }).outputs;
}

/** A deterministic random source in [0, 1) (a linear congruential generator). */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
