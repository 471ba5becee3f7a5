import { BehaviorSubject, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { isLeft } from 'fp-ts/lib/Either.js';
import {
  InferenceTimeoutError,
  ModelLoadError,
  MetricsRegistry,
  runInference,
  withExceptionHandling,
  FakeModelHandler,
} from '../../src/index';
import type { InferenceContext, ModelMetadata } from '../../src/index';

const m1: ModelMetadata = { modelId: 'm1', modelName: 'one' };
const m2: ModelMetadata = { modelId: 'm2', modelName: 'two' };

function setup(config: { failLoad?: (id: string) => boolean; latencyMs?: number } = {}) {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  const releasedAt: Record<string, number> = {};
  const handler = new FakeModelHandler({
    run: (x: string, context: InferenceContext) => `${x}@${context.modelId}`,
    latencyMs: config.latencyMs ?? 3,
    loadLatencyMs: 2,
    scheduler,
    failLoad: config.failLoad,
  });
  const release = handler.releaseModel.bind(handler);
  handler.releaseModel = (model) => {
    releasedAt[model.id] = scheduler.now();
    release(model);
  };
  return { scheduler, handler, releasedAt };
}

describe('runInference model refresh (side input)', () => {
  it('switches ids exactly when the new model has loaded; the in-flight batch keeps the old id', () => {
    const { scheduler, handler, releasedAt } = setup();
    scheduler.run(({ cold, expectObservable }) => {
      const metadata = cold('a---b', { a: m1, b: m2 });
      const source = cold('x--y-z---w|');
      // m1 loads 0→2; x runs 2→5. m2 is named at 4 and loads 4→6, while y,z run on m1 (5→8). w runs on m2.
      expectObservable(source.pipe(runInference(handler, { modelMetadata: metadata, scheduler, metrics: false }))).toBe(
        '-----x--(yz)(w|)',
        { x: 'x@m1', y: 'y@m1', z: 'z@m1', w: 'w@m2' },
      );
    });
    expect(handler.loads).toEqual(['m1', 'm2']);
    expect(handler.batchModelIds).toEqual(['m1', 'm1', 'm2']);
    // m1 is released when its last batch (5→8) is done, not when m2 became current at 6.
    expect(releasedAt).toEqual({ m1: 8, m2: 12 });
  });

  it('holds the main input until a plain Subject side input has a value', () => {
    const { scheduler, handler } = setup();
    scheduler.run(({ cold, hot, expectObservable }) => {
      const metadata = hot('------a', { a: m1 });
      const source = cold('xy|');
      // Loaded at 8; nothing was dropped: x runs 8→11, then y 11→14 (the estimator starts at minBatchSize 1).
      expectObservable(source.pipe(runInference(handler, { modelMetadata: metadata, scheduler, metrics: false }))).toBe(
        '-----------x--(y|)',
        { x: 'x@m1', y: 'y@m1' },
      );
    });
    expect(handler.batchSizes).toEqual([1, 1]);
  });

  it("loads the handler's default model for modelId ''", () => {
    const { scheduler, handler } = setup();
    scheduler.run(({ cold, expectObservable }) => {
      const metadata = new BehaviorSubject<ModelMetadata>({ modelId: '', modelName: '' });
      expectObservable(
        cold('x|').pipe(runInference(handler, { modelMetadata: metadata, scheduler, metrics: false })),
      ).toBe('-----(x|)', { x: 'x@fake-model' });
    });
    expect(handler.loads).toEqual(['fake-model']);
  });

  it('keeps serving the old model when a refresh fails, reporting it to the callback and the metrics', () => {
    const { scheduler, handler, releasedAt } = setup({ failLoad: (id) => id === 'broken' });
    const registry = new MetricsRegistry();
    const onModelLoadError = jest.fn();
    scheduler.run(({ cold, expectObservable }) => {
      // m1 is loaded (0→2) before 'broken' is named at 3 (and fails at 5).
      const metadata = cold('a--b', { a: m1, b: { modelId: 'broken', modelName: 'broken' } });
      expectObservable(
        cold('x-----y|').pipe(
          runInference(handler, { modelMetadata: metadata, scheduler, metrics: registry, onModelLoadError }),
        ),
      ).toBe('-----x---(y|)', { x: 'x@m1', y: 'y@m1' });
    });
    expect(onModelLoadError).toHaveBeenCalledTimes(1);
    const [error, update] = onModelLoadError.mock.calls[0];
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toMatch(/broken/);
    expect(update).toEqual({ modelId: 'broken', modelName: 'broken' });
    expect(JSON.stringify(registry.snapshot())).toMatch(/model_load_failures/);
    expect(releasedAt).toEqual({ m1: 9 });
  });

  it('ignores a repeated id and lets the latest value win over a load in progress', () => {
    const { scheduler, handler } = setup();
    scheduler.run(({ cold, expectObservable }) => {
      // m2 is superseded by m1 (the current model) before it finished loading: it is never used.
      const metadata = cold('a-ab-a', { a: m1, b: m2 });
      expectObservable(
        cold('------x|').pipe(runInference(handler, { modelMetadata: metadata, scheduler, metrics: false })),
      ).toBe('---------(x|)', { x: 'x@m1' });
    });
    expect(handler.loads).toEqual(['m1', 'm2']);
    expect(handler.batchModelIds).toEqual(['m1']);
  });

  it('errors the stream when the side input errors', () => {
    const { scheduler, handler } = setup();
    scheduler.run(({ cold, expectObservable }) => {
      const metadata = cold('a--#', { a: m1 }, new Error('side input broke'));
      expectObservable(
        cold('x-----|').pipe(runInference(handler, { modelMetadata: metadata, scheduler, metrics: false })),
      ).toBe('---#', undefined, new Error('side input broke'));
    });
  });

  it('errors when no model could ever be loaded, even under withExceptionHandling', () => {
    const { scheduler, handler } = setup({ failLoad: () => true });
    scheduler.run(({ cold, expectObservable }) => {
      const metadata = cold('a', { a: m1 });
      const out = cold('x|').pipe(withExceptionHandling(runInference(handler, { modelMetadata: metadata, scheduler })));
      expectObservable(out).toBe(
        '--#',
        undefined,
        new ModelLoadError("Failed to load model 'm1': FakeModelHandler: loading 'm1' failed (failLoad).", 'm1'),
      );
    });
  });

  it('accepts a Subject fed later, in real time', async () => {
    const handler = new FakeModelHandler({ run: (x: number, c: InferenceContext) => `${x}@${c.modelId}` });
    const metadata = new Subject<ModelMetadata>();
    const out: string[] = [];
    const done = new Promise<void>((resolve) => {
      const input = new Subject<number>();
      input.pipe(runInference(handler, { modelMetadata: metadata, metrics: false })).subscribe({
        next: (v) => out.push(v),
        complete: resolve,
      });
      input.next(1);
      metadata.next(m1);
      input.next(2);
      input.complete();
    });
    await done;
    expect(out).toEqual(['1@m1', '2@m1']);
  });
});

describe('runInference timeouts', () => {
  it('fails a batch that exceeds timeoutMs, aborting it', () => {
    const { scheduler, handler } = setup({ latencyMs: 10 });
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('x|').pipe(runInference(handler, { timeoutMs: 5, scheduler, metrics: false }))).toBe(
        '-------#',
        undefined,
        new InferenceTimeoutError("A batch of 1 took longer than timeoutMs (5 ms) on model 'fake-model'.", 5),
      );
    });
    expect(handler.aborts).toBe(1);
  });

  it('in exception mode, sends the timed-out elements to the dead letters and continues', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const handler = new FakeModelHandler({
      run: (x: string) => x.toUpperCase(),
      latencyMs: (batch) => (batch.includes('s') ? 20 : 1),
      scheduler,
    });
    const seen: string[] = [];
    scheduler.run(({ cold }) => {
      cold('a-s---b|')
        .pipe(withExceptionHandling(runInference(handler, { timeoutMs: 5, scheduler, metrics: false })))
        .subscribe((r) =>
          seen.push(
            isLeft(r) ? `!${r.left.element}:${r.left.error.name}@${scheduler.now()}` : `${r.right}@${scheduler.now()}`,
          ),
        );
    });
    expect(seen).toEqual(['A@1', '!s:InferenceTimeoutError@7', 'B@8']);
  });

  it('fails a model load that exceeds timeoutMs', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const handler = new FakeModelHandler({ run: (x: string) => x, loadLatencyMs: 50, scheduler });
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('x|').pipe(runInference(handler, { timeoutMs: 10, scheduler, metrics: false }))).toBe(
        '----------#',
        undefined,
        new ModelLoadError(
          "Failed to load model 'fake-model': Loading model 'fake-model' took longer than timeoutMs (10 ms).",
          'fake-model',
        ),
      );
    });
  });

  it('keeps the timeout as the cause of the load failure', async () => {
    const handler = new FakeModelHandler({ run: (x: string) => x, loadLatencyMs: 50 });
    const error = await new Promise<unknown>((resolve) =>
      new Subject<string>().pipe(runInference(handler, { timeoutMs: 5, metrics: false })).subscribe({ error: resolve }),
    );
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).cause).toBeInstanceOf(InferenceTimeoutError);
  });
});

describe('runInference metrics under a virtual clock', () => {
  it('records batch and load latencies, counts, and a per-model prefix after a refresh', () => {
    const { scheduler, handler } = setup();
    const registry = new MetricsRegistry();
    scheduler.run(({ cold }) => {
      cold('xy--------z|')
        .pipe(runInference(handler, { modelMetadata: cold('a----b', { a: m1, b: m2 }), scheduler, metrics: registry }))
        .subscribe();
    });
    const snapshot = registry.snapshot();
    // Beam's names, prefixed by the model name of the side input.
    const find = (name: string): any => snapshot.counters[name] ?? snapshot.distributions[name];
    expect(find('RunInference/one_num_inferences')).toEqual(2);
    expect(find('RunInference/two_num_inferences')).toEqual(1);
    expect(find('RunInference/one_inference_batch_latency_micro_secs')).toMatchObject({
      count: 2,
      min: 3000,
      max: 3000,
    });
    expect(find('RunInference/one_load_model_latency_milli_secs')).toMatchObject({ count: 1, sum: 2 });
    // Beam's model_byte_size: the process memory growth over each load (>= 0; tiny for a fake model).
    expect(find('RunInference/one_model_byte_size')).toMatchObject({ count: 1 });
    expect(find('RunInference/one_model_byte_size').min).toBeGreaterThanOrEqual(0);
  });
});
