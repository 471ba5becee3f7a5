import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InferenceTimeoutError } from '../core/errors.js';
import { checkNumber } from '../core/validate.js';
import type { Counter } from '../metrics/Counter.js';
import type { Distribution } from '../metrics/Distribution.js';
import { formatPrometheusText } from '../metrics/formatPrometheusText.js';
import { MetricsRegistry } from '../metrics/MetricsRegistry.js';
import { decodeInferRequest } from './decodeInferRequest.js';
import { encodeInferResponse } from './encodeInferResponse.js';
import type { InferenceServer, InferenceServerConfig } from './InferenceServer.js';
import { InferRequestError } from './InferRequestError.js';
import { readBody } from './readBody.js';
import { Reply } from './Reply.js';
import type { ServedTensor } from './ServedModel.js';

const DEFAULT_MAX_BODY = 8 * 1024 * 1024;
const DEFAULT_TIMEOUT = 30_000;

interface ServerMetrics {
  readonly requests: Counter;
  readonly byClass: Record<'2xx' | '4xx' | '5xx', Counter>;
  readonly examples: Counter;
  readonly latency: Distribution;
}

function metadataTensor(tensor: ServedTensor): { name: string; datatype: string; shape: number[] } {
  return { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape === undefined ? [-1] : [...tensor.shape] };
}

/**
 * Serves one model over HTTP with the Open Inference Protocol (KServe v2 REST; kserve/open-inference-protocol
 * `inference_rest.md`), as Triton, KServe and MLServer speak it (SPEC §9):
 *
 * - `GET /v2` server metadata; `GET /v2/health/live`; `GET /v2/health/ready` (503 until the model is loaded and while
 *   draining);
 * - `GET /v2/models/NAME[/versions/V]` model metadata; `GET .../ready`; `POST .../infer`;
 * - `GET /metrics`: every metric of `config.metrics` in Prometheus text.
 *
 * An infer request whose inputs' first dimension is n carries n examples; each goes to `predictor.predict`, so they
 * are batched with other requests' examples. Answers: 200 with `{ model_name, model_version, id?, outputs }`; 400
 * with `{ "error" }` naming the field for a bad request; 404 for an unknown model, version or route; 405 for a wrong
 * method; 413 for a body over `maxBodyBytes` (before it is parsed); 503 when the queue is full or the server is
 * draining; 504 past the request's deadline; 500 when the model fails. A client that disconnects has its queued
 * examples taken out of the queue. No request can name a file.
 */
export function createInferenceServer(config: InferenceServerConfig): InferenceServer {
  const {
    predictor,
    model,
    metrics: registry = new MetricsRegistry(),
    serverName = 'rxjs-inference',
    serverVersion = '0.0.0',
    maxBodyBytes = DEFAULT_MAX_BODY,
    requestTimeoutMs = DEFAULT_TIMEOUT,
  } = config;
  checkNumber('maxBodyBytes', maxBodyBytes, { min: 1, integer: true });
  checkNumber('requestTimeoutMs', requestTimeoutMs, { min: 1, integer: true });
  const namespace = 'Serve';
  const metrics: ServerMetrics = {
    requests: registry.counter({ namespace, name: 'http_requests' }),
    byClass: {
      '2xx': registry.counter({ namespace, name: 'http_responses_2xx' }),
      '4xx': registry.counter({ namespace, name: 'http_responses_4xx' }),
      '5xx': registry.counter({ namespace, name: 'http_responses_5xx' }),
    },
    examples: registry.counter({ namespace, name: 'infer_examples' }),
    latency: registry.distribution({ namespace, name: 'infer_latency_milli_secs' }),
  };
  const metadata = JSON.stringify({
    name: model.name,
    versions: [model.version],
    platform: model.platform,
    inputs: model.inputs.map(metadataTensor),
    outputs: model.outputs.map(metadataTensor),
  });

  let draining = false;
  let inFlight = 0;
  let onIdle: (() => void) | undefined;

  const server = createServer({
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(requestTimeoutMs, 60_000),
    // How often Node checks the request and header deadlines (its default, 30 s, would let a stalled client linger).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeoutMs / 4))),
  });
  // A client that stops reading its answer is cut after this much inactivity.
  server.timeout = 2 * requestTimeoutMs;

  async function infer(request: IncomingMessage, response: ServerResponse): Promise<Reply> {
    if (draining) return Reply.error(503, 'The server is shutting down.');
    const started = performance.now();
    const body = await readBody(request, maxBodyBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new InferRequestError(`request body: malformed JSON: ${(error as Error).message}`, 400);
    }
    const decoded = decodeInferRequest(parsed, model);
    const controller = new AbortController();
    // One listener per example of the request on the same signal: no leak, so no warning.
    if (decoded.examples.length > 1) setMaxListeners(0, controller.signal);
    const onClose = (): void => {
      if (!response.writableEnded) controller.abort(new Error('The client closed the connection.'));
    };
    response.on('close', onClose);
    // One deadline for the whole request (not a timer per example): past it, its examples leave the queue.
    const deadline = setTimeout(
      () =>
        controller.abort(
          new InferenceTimeoutError(
            `The request was not answered within ${requestTimeoutMs} ms (--request-timeout-ms).`,
            requestTimeoutMs,
          ),
        ),
      requestTimeoutMs,
    );
    try {
      const results = await Promise.all(
        decoded.examples.map((example) => predictor.predict(example, { signal: controller.signal })),
      );
      metrics.examples.inc(results.length);
      metrics.latency.update(performance.now() - started);
      return new Reply(200, encodeInferResponse(model, decoded, results));
    } catch (error) {
      // The other examples of this request are of no use any more: out of the queue with them.
      controller.abort(error);
      throw error;
    } finally {
      clearTimeout(deadline);
      response.off('close', onClose);
    }
  }

  function route(request: IncomingMessage, response: ServerResponse): Reply | Promise<Reply> {
    const path = (request.url ?? '/').split('?', 1)[0];
    const parts = path.split('/').filter((p) => p !== '');
    const method = request.method ?? 'GET';
    const get = (answer: () => Reply): Reply => {
      if (method === 'GET' || method === 'HEAD') return answer();
      return Reply.error(405, `${method} ${path}: this route answers GET only.`);
    };
    if (parts.length === 1 && parts[0] === 'metrics') {
      return get(() => new Reply(200, formatPrometheusText(registry), 'text/plain; version=0.0.4; charset=utf-8'));
    }
    if (parts[0] !== 'v2')
      return Reply.error(404, `No route ${path}: the Open Inference Protocol routes start with /v2.`);
    if (parts.length === 1) {
      return get(() => Reply.json(200, { name: serverName, version: serverVersion, extensions: [] }));
    }
    if (parts[1] === 'health' && parts.length === 3 && (parts[2] === 'live' || parts[2] === 'ready')) {
      if (parts[2] === 'live') return get(() => Reply.json(200, { live: true }));
      const ready = predictor.isReady && !draining;
      return get(() => Reply.json(ready ? 200 : 503, { live: true, ready }));
    }
    if (parts[1] !== 'models' || parts.length < 3) return Reply.error(404, `No route ${path}.`);
    let name: string;
    try {
      name = decodeURIComponent(parts[2]);
    } catch {
      return Reply.error(400, `${path}: the model name is not valid URL encoding.`);
    }
    if (name !== model.name) {
      return Reply.error(404, `Unknown model \`${name}\`: this server serves \`${model.name}\`.`);
    }
    let rest = parts.slice(3);
    if (rest[0] === 'versions') {
      if (rest.length < 2) return Reply.error(404, `No route ${path}: a version is missing after /versions.`);
      const version = decodeURIComponent(rest[1]);
      if (version !== model.version) {
        return Reply.error(
          404,
          `Unknown version \`${version}\` of model \`${model.name}\`: its versions: \`${model.version}\`.`,
        );
      }
      rest = rest.slice(2);
    }
    if (rest.length === 0) return get(() => new Reply(200, metadata));
    if (rest.length === 1 && rest[0] === 'ready') {
      const ready = predictor.isReady && !draining;
      return get(() => Reply.json(ready ? 200 : 503, { name: model.name, ready }));
    }
    if (rest.length === 1 && rest[0] === 'infer') {
      if (method !== 'POST') return Reply.error(405, `${method} ${path}: inference takes POST.`);
      return infer(request, response);
    }
    return Reply.error(404, `No route ${path}.`);
  }

  function send(request: IncomingMessage, response: ServerResponse, reply: Reply): void {
    metrics.byClass[reply.status < 400 ? '2xx' : reply.status < 500 ? '4xx' : '5xx'].inc();
    if (response.destroyed || response.headersSent) return;
    const headers: Record<string, string | number> = {
      'content-type': reply.contentType,
      'content-length': Buffer.byteLength(reply.body),
    };
    // Close the connection when the body was not read to its end (413), or while draining.
    if (draining || !request.complete) headers.connection = 'close';
    if (reply.status === 405) headers.allow = 'GET, POST';
    response.writeHead(reply.status, headers);
    response.end(request.method === 'HEAD' ? undefined : reply.body);
  }

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    metrics.requests.inc();
    inFlight++;
    response.on('close', () => {
      if (--inFlight === 0) onIdle?.();
    });
    let reply: Reply | Promise<Reply>;
    try {
      reply = route(request, response);
    } catch (error) {
      reply = Reply.failure(error);
    }
    if (reply instanceof Reply) {
      send(request, response, reply);
      return;
    }
    reply.then(
      (answer) => send(request, response, answer),
      (error: unknown) => send(request, response, Reply.failure(error)),
    );
  });

  let closing: Promise<void> | undefined;
  return {
    server,
    listen(port = 8000, host = '127.0.0.1') {
      return new Promise<AddressInfo>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      closing ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) await new Promise<void>((resolve) => (onIdle = resolve));
        server.closeAllConnections();
        await closed;
        await predictor.close();
      })();
      return closing;
    },
  };
}
