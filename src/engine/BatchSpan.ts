import { describeValue } from '../core/errors.js';

/** Attribute values a span takes (numbers and strings here). */
export type SpanAttributes = Readonly<Record<string, string | number>>;

/**
 * The part of an OpenTelemetry `Span` the batch spans use (`@opentelemetry/api` 1.x). Structural, so this package's
 * declarations do not need `@opentelemetry/api`.
 */
export interface SpanLike {
  setAttribute(key: string, value: string | number): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException?(exception: Error): unknown;
  end(): void;
}

/** The part of an OpenTelemetry `Tracer` (`trace.getTracer('my-service')`) `runInference`'s `tracer` option uses. */
export interface TracerLike {
  startSpan(name: string, options?: { attributes?: SpanAttributes }): SpanLike;
}

/** How a model call ended. */
export type BatchOutcome = 'ok' | 'error' | 'aborted';

// OpenTelemetry's SpanStatusCode: UNSET 0, OK 1, ERROR 2.
const STATUS_OK = 1;
const STATUS_ERROR = 2;

/**
 * One span per model call (a batch, or a part of a bisected batch): `rxjs-inference batch`, with the model id and the
 * batch size when it starts and the outcome when it ends. A tracer that throws costs the span, never the batch.
 */
export class BatchSpan {
  private ended = false;

  private constructor(private readonly span: SpanLike) {}

  static start(tracer: TracerLike | undefined, modelId: string, size: number): BatchSpan | undefined {
    if (tracer === undefined) return undefined;
    try {
      return new BatchSpan(
        tracer.startSpan('rxjs-inference batch', {
          attributes: { 'rxjs_inference.model_id': modelId, 'rxjs_inference.batch_size': size },
        }),
      );
    } catch {
      return undefined;
    }
  }

  /** Ends the span with its outcome (once; later calls are ignored). */
  end(outcome: BatchOutcome, error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.span.setAttribute('rxjs_inference.outcome', outcome);
      if (outcome === 'ok') this.span.setStatus({ code: STATUS_OK });
      else if (outcome === 'error') {
        const err = error instanceof Error ? error : new Error(describeValue(error));
        this.span.recordException?.(err);
        this.span.setStatus({ code: STATUS_ERROR, message: err.message });
      }
      this.span.end();
    } catch {
      // A broken tracer must not fail a batch.
    }
  }
}
