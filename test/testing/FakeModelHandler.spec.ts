import { TestScheduler } from 'rxjs/testing';
import { runInference, streamInference } from '../../src/index';
import { FakeModelHandler } from '../../src/testing';

const newScheduler = () => new TestScheduler((a, b) => expect(a).toEqual(b));

describe('FakeModelHandler', () => {
  it('runs batches in virtual time and records batches, loads and releases', () => {
    const scheduler = newScheduler();
    const handler = new FakeModelHandler({ run: (x: string) => x.toUpperCase(), latencyMs: 3, scheduler });
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-c-|').pipe(runInference(handler, { metrics: false, scheduler }))).toBe(
        '----A--B--(C|)',
        { A: 'A', B: 'B', C: 'C' },
      );
    });
    expect(handler.batches).toEqual([['a'], ['b'], ['c']]);
    expect(handler.loads).toEqual(['fake-model']);
    expect(handler.releases).toEqual(['fake-model']);
    expect(handler.batchModelIds).toEqual(['fake-model', 'fake-model', 'fake-model']);
  });

  it('loads take loadLatencyMs and fail where failLoad says so', () => {
    const scheduler = newScheduler();
    const handler = new FakeModelHandler({
      run: (x: number) => x,
      loadLatencyMs: (id) => (id === 'slow' ? 5 : 1),
      failLoad: (id) => id === 'bad',
      scheduler,
    });
    scheduler.run(({ expectObservable }) => {
      expectObservable(handler.loadModel('slow') as never).toBe('-----(m|)', { m: { id: 'slow', load: 1 } });
      expectObservable(handler.loadModel('bad') as never).toBe(
        '-#',
        undefined,
        new Error("FakeModelHandler: loading 'bad' failed (failLoad)."),
      );
    });
    const immediate = new FakeModelHandler({ run: (x: number) => x, failLoad: () => true });
    expect(() => immediate.loadModel()).toThrow("FakeModelHandler: loading 'fake-model' failed (failLoad).");
  });

  it('counts a batch cancelled by unsubscribing in aborts', () => {
    const scheduler = newScheduler();
    const handler = new FakeModelHandler({ run: (x: number) => x, latencyMs: 10, scheduler });
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('a', { a: 1 }).pipe(runInference(handler, { metrics: false, scheduler })), '^--!').toBe(
        '-',
      );
    });
    expect(handler.aborts).toBe(1);
  });

  it('streams partial outputs step by step for streamInference', () => {
    const scheduler = newScheduler();
    const handler = new FakeModelHandler({
      run: (x: string) => x.length,
      stream: (x: string) => [...x],
      latencyMs: 2,
      scheduler,
    });
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('(a|)', { a: 'hi' }).pipe(streamInference(handler, { metrics: false, scheduler }))).toBe(
        '--p-(qr|)',
        {
          p: { kind: 'partial', index: 0, value: 'h' },
          q: { kind: 'partial', index: 0, value: 'i' },
          r: { kind: 'end', index: 0, result: 2 },
        },
      );
    });
  });

  it('predicting() shapes outputs like the real handlers: { example, inference, modelId }', () => {
    const handler = FakeModelHandler.predicting({ run: (x: number) => x * 2 });
    const model = handler.loadModel() as { id: string; load: number };
    const context = { modelId: 'fake-model' } as never;
    expect(handler.runInference([1, 2], model, context)).toEqual([
      { example: 1, inference: 2, modelId: 'fake-model' },
      { example: 2, inference: 4, modelId: 'fake-model' },
    ]);
  });

  it('validates its config with the usual messages', () => {
    expect(() => new FakeModelHandler({} as never)).toThrow(
      'Expected `run` to be a function, got `undefined` (undefined).',
    );
    expect(() => new FakeModelHandler({ run: (x: number) => x, latencyMs: -1 })).toThrow(RangeError);
    expect(() => new FakeModelHandler({ run: (x: number) => x, latncyMs: 1 } as never)).toThrow(
      /did you mean `latencyMs`/,
    );
  });
});
