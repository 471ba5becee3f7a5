import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from '../metrics/MetricsRegistry.js';
import type { Predictor } from './Predictor.js';
import type { ServedModel } from './ServedModel.js';

/** Options of `createInferenceServer`. */
export interface InferenceServerConfig {
  /** Runs the model: every request's examples go through it, batched with other requests'. */
  readonly predictor: Predictor<any, any>;
  /** The model's name, version, platform and signature. */
  readonly model: ServedModel;
  /** Rendered at `GET /metrics`; the server's own counters go there too. @default a new registry */
  readonly metrics?: MetricsRegistry;
  /** Server metadata (`GET /v2`). @default 'rxjs-inference' */
  readonly serverName?: string;
  /** Server metadata (`GET /v2`). @default '0.0.0' */
  readonly serverVersion?: string;
  /** Larger request bodies get 413 before they are parsed. @default 8 MiB */
  readonly maxBodyBytes?: number;
  /**
   * A request must arrive whole within this time (slow or stalled clients get 408 and are disconnected), and its
   * prediction must be done within it again (else 504). @default 30_000
   */
  readonly requestTimeoutMs?: number;
}

/** An Open Inference Protocol HTTP server over one predictor. */
export interface InferenceServer {
  /** The `node:http` server. */
  readonly server: Server;
  /** Starts listening; resolves with the bound address (port 0 picks a free port). @default 8000 on 127.0.0.1 */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /**
   * Drains: stops accepting connections, answers the requests in flight (new ones on open connections get 503),
   * closes the connections, then closes the predictor. Resolves when all of that is done.
   */
  close(): Promise<void>;
}
