import { VirtualTimeScheduler } from 'rxjs';
import {
  createPredictor,
  InferenceTimeoutError,
  MetricsRegistry,
  ModelLoadError,
  PredictorClosedError,
  QueueFullError,
  type Predictor,
} from 'rxjs-inference';
import { FakeModelHandler } from 'rxjs-inference/testing';

/** Runs every action due by virtual time `t`, then lets promise callbacks run. */
async function advanceTo(scheduler: VirtualTimeScheduler, t: number): Promise<void> {
  scheduler.maxFrames = t;
  scheduler.flush();
  await new Promise((resolve) => setImmediate(resolve));
}

/** The state of a promise, read after `advanceTo`. */
function track<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const tracked: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then(
    (value) => Object.assign(tracked, { state: 'resolved', value }),
    (error: unknown) => Object.assign(tracked, { state: 'rejected', error }),
  );
  return tracked;
}

function setup(options: { latencyMs?: number; maxQueuedRequests?: number; run?: (x: string) => string } = {}) {
  const scheduler = new VirtualTimeScheduler();
  const handler = new FakeModelHandler({
    run: options.run ?? ((x: string) => x.toUpperCase()),
    latencyMs: options.latencyMs ?? 3,
  });
  const metrics = new MetricsRegistry();
  const predictor = createPredictor(handler, {
    scheduler,
    metrics,
    ...(options.maxQueuedRequests !== undefined && { maxQueuedRequests: options.maxQueuedRequests }),
  });
  const at = <T>(t: number, call: () => Promise<T>) => {
    let tracked: ReturnType<typeof track<T>> | undefined;
    scheduler.schedule(() => (tracked = track(call())), t);
    return () => tracked!;
  };
  const counter = (name: string) => metrics.snapshot().counters[`RunInference/${name}`] ?? 0;
  return { scheduler, handler, metrics, predictor, at, counter };
}

describe('createPredictor', () => {
  it('batches concurrent calls through one pipeline: a alone, then b and c together', async () => {
    const { scheduler, handler, predictor, at } = setup();
    await predictor.ready;
    const a = at(0, () => predictor.predict('a'));
    const b = at(1, () => predictor.predict('b'));
    const c = at(1, () => predictor.predict('c'));
    await advanceTo(scheduler, 2);
    expect([a().state, b().state, c().state]).toEqual(['pending', 'pending', 'pending']);
    await advanceTo(scheduler, 3);
    expect(a()).toEqual({ state: 'resolved', value: 'A' });
    expect(b().state).toBe('pending');
    await advanceTo(scheduler, 6);
    expect([b().value, c().value]).toEqual(['B', 'C']);
    expect(handler.batches).toEqual([['a'], ['b', 'c']]);
  });

  it('an abort while queued rejects with the reason at once and the model never sees the example', async () => {
    const { scheduler, handler, predictor, at, counter } = setup({ latencyMs: 5 });
    const controller = new AbortController();
    const reason = new Error('client went away');
    const a = at(0, () => predictor.predict('a'));
    const b = at(1, () => predictor.predict('b', { signal: controller.signal }));
    const c = at(1, () => predictor.predict('c'));
    scheduler.schedule(() => controller.abort(reason), 2);
    await advanceTo(scheduler, 2);
    expect(b()).toEqual({ state: 'rejected', error: reason });
    expect(predictor.queuedRequests).toBe(2);
    await advanceTo(scheduler, 20);
    expect([a().value, c().value]).toEqual(['A', 'C']);
    expect(handler.batches).toEqual([['a'], ['c']]);
    expect(counter('predictor_aborted_requests')).toBe(1);
  });

  it('a deadline passed while queued rejects with InferenceTimeoutError and the model never sees the example', async () => {
    const { scheduler, handler, predictor, at, counter } = setup({ latencyMs: 10 });
    const a = at(0, () => predictor.predict('a'));
    const b = at(1, () => predictor.predict('b', { timeoutMs: 4 }));
    await advanceTo(scheduler, 4);
    expect(b().state).toBe('pending');
    await advanceTo(scheduler, 5);
    expect(b().state).toBe('rejected');
    expect(b().error).toBeInstanceOf(InferenceTimeoutError);
    expect((b().error as InferenceTimeoutError).timeoutMs).toBe(4);
    await advanceTo(scheduler, 30);
    expect(a().value).toBe('A');
    expect(handler.batches).toEqual([['a']]);
    expect(counter('predictor_timeouts')).toBe(1);
  });

  it('an abort after dispatch rejects at once and drops the result; the batch still answers the others', async () => {
    const { scheduler, handler, predictor, at } = setup({ latencyMs: 5 });
    const controller = new AbortController();
    const a = at(0, () => predictor.predict('a', { signal: controller.signal }));
    scheduler.schedule(() => controller.abort('stop'), 2);
    const b = at(3, () => predictor.predict('b'));
    await advanceTo(scheduler, 2);
    expect(a()).toEqual({ state: 'rejected', error: 'stop' });
    await advanceTo(scheduler, 20);
    expect(b().value).toBe('B');
    expect(handler.batches).toEqual([['a'], ['b']]);
  });

  it('a deadline met resolves normally and leaves no timer behind', async () => {
    const { scheduler, predictor, at } = setup({ latencyMs: 2 });
    const a = at(0, () => predictor.predict('a', { timeoutMs: 50 }));
    await advanceTo(scheduler, 2);
    expect(a().value).toBe('A');
    expect(scheduler.actions).toHaveLength(0);
  });

  it('past maxQueuedRequests rejects at once with QueueFullError, then admits again once there is room', async () => {
    const { scheduler, predictor, at, counter } = setup({ latencyMs: 5, maxQueuedRequests: 2 });
    const a = at(0, () => predictor.predict('a'));
    const b = at(0, () => predictor.predict('b'));
    const c = at(0, () => predictor.predict('c'));
    await advanceTo(scheduler, 0);
    expect(c().state).toBe('rejected');
    expect(c().error).toBeInstanceOf(QueueFullError);
    expect((c().error as QueueFullError).maxQueuedRequests).toBe(2);
    expect(counter('predictor_rejected_requests')).toBe(1);
    await advanceTo(scheduler, 5);
    expect(a().value).toBe('A');
    const d = at(6, () => predictor.predict('d'));
    await advanceTo(scheduler, 30);
    expect([b().value, d().value]).toEqual(['B', 'D']);
  });

  it('a failing element rejects only its own promise', async () => {
    const { scheduler, predictor, at, counter } = setup({
      latencyMs: 1,
      run: (x) => {
        if (x === 'bad') throw new Error('cannot score bad');
        return x.toUpperCase();
      },
    });
    const a = at(0, () => predictor.predict('a'));
    const bad = at(0, () => predictor.predict('bad'));
    const c = at(0, () => predictor.predict('c'));
    await advanceTo(scheduler, 20);
    expect([a().value, c().value]).toEqual(['A', 'C']);
    expect(bad().state).toBe('rejected');
    expect(String(bad().error)).toMatch(/cannot score bad/);
    expect(counter('predictor_failed_requests')).toBe(1);
  });

  it('an already-aborted signal rejects without queueing', async () => {
    const { scheduler, handler, predictor, at } = setup();
    const a = at(0, () => predictor.predict('a', { signal: AbortSignal.abort('no') }));
    await advanceTo(scheduler, 10);
    expect(a()).toEqual({ state: 'rejected', error: 'no' });
    expect(handler.batches).toEqual([]);
  });

  it('close() answers what is queued, then rejects later calls and releases the model', async () => {
    const { scheduler, handler, predictor, at } = setup({ latencyMs: 3 });
    const a = at(0, () => predictor.predict('a'));
    const b = at(1, () => predictor.predict('b'));
    let closed: ReturnType<typeof track<void>> | undefined;
    scheduler.schedule(() => (closed = track(predictor.close())), 1);
    const late = at(2, () => predictor.predict('late'));
    await advanceTo(scheduler, 2);
    expect(late().error).toBeInstanceOf(PredictorClosedError);
    expect(closed!.state).toBe('pending');
    expect(predictor.isReady).toBe(false);
    await advanceTo(scheduler, 10);
    expect([a().value, b().value]).toEqual(['A', 'B']);
    expect(closed!.state).toBe('resolved');
    expect(handler.releases).toHaveLength(1);
  });

  it('ready resolves once the model has loaded', async () => {
    const scheduler = new VirtualTimeScheduler();
    const handler = new FakeModelHandler({ run: (x: string) => x, loadLatencyMs: 7, scheduler });
    const predictor = createPredictor(handler, { scheduler, metrics: false });
    const ready = track(predictor.ready);
    await advanceTo(scheduler, 6);
    expect([ready.state, predictor.isReady]).toEqual(['pending', false]);
    await advanceTo(scheduler, 7);
    expect([ready.state, predictor.isReady]).toEqual(['resolved', true]);
    await predictor.close();
  });

  it('a model that cannot load rejects ready, the waiting calls and later calls', async () => {
    const handler = new FakeModelHandler({ run: (x: string) => x, failLoad: () => true, loadLatencyMs: 1 });
    const predictor: Predictor<string, string> = createPredictor(handler, { metrics: false });
    const waiting = predictor.predict('a');
    await expect(predictor.ready).rejects.toBeInstanceOf(ModelLoadError);
    await expect(waiting).rejects.toBeInstanceOf(ModelLoadError);
    await expect(predictor.predict('b')).rejects.toBeInstanceOf(PredictorClosedError);
    await predictor.close();
  });

  it('works on the real clock: concurrent calls share batches', async () => {
    const handler = new FakeModelHandler({ run: (x: number) => x * 2, latencyMs: 5 });
    const predictor = createPredictor(handler, { metrics: false });
    await predictor.ready;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => predictor.predict(i)));
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
    expect(handler.batches.length).toBeLessThan(50);
    await predictor.close();
  });

  describe('validation', () => {
    const handler = new FakeModelHandler({ run: (x: string) => x });
    it('rejects a handler that is not a ModelHandler', () => {
      expect(() => createPredictor({} as never)).toThrow(expect.objectContaining({ name: 'TypeError' }));
    });
    it('rejects a withNoBatching() handler', () => {
      expect(() => createPredictor(handler.withNoBatching())).toThrow(/withNoBatching/);
    });
    it('rejects a bad maxQueuedRequests', () => {
      expect(() => createPredictor(handler, { maxQueuedRequests: 0 })).toThrow(
        expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(/maxQueuedRequests/) }),
      );
    });
    it('rejects bad per-call options', async () => {
      const predictor = createPredictor(handler, { metrics: false });
      await expect(predictor.predict('a', { timeoutMs: -1 })).rejects.toThrow(/timeoutMs/);
      await expect(predictor.predict('a', { signal: 'x' as never })).rejects.toThrow(/signal/);
      await predictor.close();
    });
  });
});
