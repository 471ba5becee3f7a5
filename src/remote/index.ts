// `rxjs-inference/remote`: the HTTP model handler and its throttling and retry parts. No model runtime's types.

/* Handlers */
export { RemoteModelHandler } from '../handlers/remote/RemoteModelHandler.js';
export { AdaptiveThrottler } from '../handlers/remote/AdaptiveThrottler.js';
export { isRetryableError } from '../handlers/remote/retryPolicy.js';

/* Errors */
export { HttpError } from '../handlers/remote/HttpError.js';
export { RemoteInferenceError } from '../handlers/remote/RemoteInferenceError.js';

/* Types */
export type {
  RemoteModelHandlerConfig,
  RemoteRequestContext,
  RemoteThrottleConfig,
  RemoteModelStats,
  DefaultRemoteClient,
} from '../handlers/remote/RemoteModelHandler.js';
export type { AdaptiveThrottlerConfig } from '../handlers/remote/AdaptiveThrottler.js';
export type { RetryConfig } from '../handlers/remote/retryPolicy.js';
export type { HttpErrorOptions, HeadersLike } from '../handlers/remote/HttpError.js';
export type { RemoteFailureReason } from '../handlers/remote/RemoteInferenceError.js';
