import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type Either, isLeft } from 'fp-ts/lib/Either.js';
import { from, lastValueFrom, NEVER, startWith, toArray } from 'rxjs';
import { type FailedRecord, runInference, withExceptionHandling } from 'rxjs-inference';
import { FakeModelHandler } from 'rxjs-inference/testing';

// A span per model call where a tracer is configured (issue 16), checked with OpenTelemetry's own SDK and its
// in-memory exporter.
function tracing(): { exporter: InMemorySpanExporter; tracer: ReturnType<BasicTracerProvider['getTracer']> } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracer: provider.getTracer('test') };
}

const summary = (exporter: InMemorySpanExporter): unknown[] =>
  exporter.getFinishedSpans().map((s) => ({
    name: s.name,
    size: s.attributes['rxjs_inference.batch_size'],
    model: s.attributes['rxjs_inference.model_id'],
    outcome: s.attributes['rxjs_inference.outcome'],
    status: s.status.code,
  }));

describe('runInference tracer: one span per batch', () => {
  it('names the model, the batch size and the outcome', async () => {
    const { exporter, tracer } = tracing();
    const handler = new FakeModelHandler({ run: (x: number) => x, batchConfig: { minBatchSize: 2, maxBatchSize: 2 } });
    await lastValueFrom(from([1, 2, 3]).pipe(runInference(handler, { tracer, metrics: false }), toArray()));
    expect(summary(exporter)).toEqual([
      { name: 'rxjs-inference batch', size: 2, model: 'fake-model', outcome: 'ok', status: 1 },
      { name: 'rxjs-inference batch', size: 1, model: 'fake-model', outcome: 'ok', status: 1 },
    ]);
  });

  it('a failed batch is an error span with the exception; bisection gives one span per model call', async () => {
    const { exporter, tracer } = tracing();
    const handler = new FakeModelHandler({
      run: (x: number) => {
        if (x === 2) throw new Error('poison');
        return x;
      },
      batchConfig: { minBatchSize: 2, maxBatchSize: 2 },
    });
    const results = await lastValueFrom(
      from([1, 2]).pipe(withExceptionHandling(runInference(handler, { tracer, metrics: false })), toArray()),
    );
    expect(results.map((r: Either<FailedRecord, number>) => isLeft(r))).toEqual([false, true]);
    expect(summary(exporter)).toEqual([
      expect.objectContaining({ size: 2, outcome: 'error', status: 2 }),
      expect.objectContaining({ size: 1, outcome: 'ok' }),
      expect.objectContaining({ size: 1, outcome: 'error', status: 2 }),
    ]);
    expect(exporter.getFinishedSpans()[0].events.map((e) => e.name)).toEqual(['exception']);
  });

  it('a batch in flight when the subscriber leaves ends as aborted', () => {
    const { exporter, tracer } = tracing();
    const handler = new FakeModelHandler({ run: (x: number) => x, latencyMs: 1000 });
    const subscription = NEVER.pipe(startWith(1), runInference(handler, { tracer, metrics: false })).subscribe();
    subscription.unsubscribe();
    expect(summary(exporter)).toEqual([expect.objectContaining({ size: 1, outcome: 'aborted' })]);
  });

  it('a tracer that is not one is a TypeError; a throwing tracer costs the span, not the batch', async () => {
    expect(() => runInference(new FakeModelHandler({ run: (x: number) => x }), { tracer: {} as never })).toThrow(
      /Expected `tracer` to be an OpenTelemetry Tracer/,
    );
    const broken = {
      startSpan: () => {
        throw new Error('exporter down');
      },
    };
    const handler = new FakeModelHandler({ run: (x: number) => x * 2 });
    expect(
      await lastValueFrom(from([1, 2]).pipe(runInference(handler, { tracer: broken, metrics: false }), toArray())),
    ).toEqual([2, 4]);
  });
});
