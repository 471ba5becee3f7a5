import { concat, finalize, isObservable, map, tap, timer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { InferenceContext, ModelMetadata } from '../../src/index';
import { FakeModelHandler, ModelLoadError, runInference, type FakeModel } from '../../src/index';

const meta = (id: string): ModelMetadata => ({ modelId: id, modelName: id });

function setup(config: {
  loadLatencyMs?: (id: string) => number;
  failLoad?: (id: string) => boolean;
  latencyMs?: number;
}) {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  const handler = new FakeModelHandler({
    run: (x: string, context: InferenceContext) => `${x}@${context.modelId}`,
    latencyMs: config.latencyMs ?? 1,
    loadLatencyMs: config.loadLatencyMs ?? (() => 2),
    scheduler,
    failLoad: config.failLoad,
  });
  return { scheduler, handler };
}

describe('runInference refresh races (#13 items 5, 6, 8)', () => {
  it('a refresh that fails to load, named while the first model still loads, does not throw the good load away', () => {
    const { scheduler, handler } = setup({
      loadLatencyMs: (id) => (id === 'good' ? 10 : 1),
      failLoad: (id) => id === 'bad',
    });
    const failures: string[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const metadata = cold('a-b', { a: meta('good'), b: meta('bad') });
      const source = cold('x------------y|');
      // good loads 0→10 (bad waits for it, then fails at once at 10: reported, not fatal); x runs 10→11, y 13→14.
      expectObservable(
        source.pipe(
          runInference(handler, {
            modelMetadata: metadata,
            scheduler,
            metrics: false,
            onModelLoadError: (error) => failures.push(error.message),
          }),
        ),
      ).toBe('-----------x--(y|)', { x: 'x@good', y: 'y@good' });
    });
    expect(handler.loads).toEqual(['good', 'bad']);
    expect(failures).toEqual([expect.stringMatching(/bad/)]);
    expect(handler.releases).toEqual(['good']);
  });

  it('a first model that fails while a refresh is named goes on to the refresh; the stream errors only if none loads', () => {
    const { scheduler, handler } = setup({ failLoad: (id) => id.startsWith('bad') });
    const failures: string[] = [];
    scheduler.run(({ cold, expectObservable }) => {
      const ok = cold('ab', { a: meta('bad1'), b: meta('good') });
      expectObservable(
        cold('x|').pipe(
          runInference(handler, {
            modelMetadata: ok,
            scheduler,
            metrics: false,
            onModelLoadError: (e) => failures.push(e.modelId),
          }),
        ),
      ).toBe('-----(x|)', { x: 'x@good' });
      const none = cold('ab', { a: meta('bad1'), b: meta('bad2') });
      expectObservable(cold('x|').pipe(runInference(handler, { modelMetadata: none, scheduler, metrics: false }))).toBe(
        '----#',
        undefined,
        expect.any(ModelLoadError),
      );
    });
    expect(failures).toEqual(['bad1']);
  });

  it('a refresh storm holds at most one pending load: superseded loads are cancelled mid-load, never served or reported', () => {
    const { scheduler, handler } = setup({ loadLatencyMs: () => 5 });
    let live = 0; // models loaded and not yet released
    let peak = 0;
    let pending = 0; // loads started and not yet ended (by a model, or by being cancelled)
    let peakPending = 0;
    let cancelled = 0;
    const failures: unknown[] = [];
    const load = handler.loadModelFor.bind(handler);
    const release = handler.releaseModel.bind(handler);
    handler.loadModelFor = (update, signal) => {
      const result = load(update, signal);
      if (!isObservable(result)) throw new Error('the fake loads on the TestScheduler');
      pending++;
      peakPending = Math.max(peakPending, pending);
      let ended = false;
      return (result as Observable<FakeModel>).pipe(
        tap(() => {
          ended = true;
          pending--;
          live++;
          peak = Math.max(peak, live);
        }),
        finalize(() => {
          if (ended) return;
          pending--;
          cancelled++;
          expect(signal?.aborted).toBe(true);
        }),
      );
    };
    handler.releaseModel = (model) => {
      live--;
      release(model);
    };
    scheduler.run(({ expectObservable }) => {
      // 30 refreshes, 1 ms apart, each load taking 5 ms.
      const metadata = concat(
        timer(0).pipe(map(() => meta('m0'))),
        ...Array.from({ length: 30 }, (_, i) => timer(1).pipe(map(() => meta(`m${i + 1}`)))),
      );
      const source = timer(60).pipe(map(() => 'x'));
      const config = {
        modelMetadata: metadata,
        scheduler,
        metrics: false as const,
        onModelLoadError: (e: unknown) => failures.push(e),
      };
      expectObservable(source.pipe(runInference(handler, config))).toBe(
        '------------------------------------------------------------ -(x|)',
        { x: 'x@m30' },
      );
    });
    // One load at a time (before the fix every refresh started its own load at once); a superseded refresh is
    // cancelled when the next one is named, so the storm ends with the last model loaded 5 ms after it.
    expect(peakPending).toBe(1);
    expect(pending).toBe(0);
    expect(cancelled).toBeGreaterThan(20);
    expect(peak).toBeLessThanOrEqual(2);
    expect(live).toBe(0);
    expect(failures).toEqual([]);
    expect(handler.loads[handler.loads.length - 1]).toBe('m30');
    expect(handler.releases.length).toBe(handler.loads.length - cancelled);
  });

  for (const ending of ['side-input error', 'unsubscribe'] as const) {
    it(`releases a swapped-out model whose batch still runs when the stream ends by ${ending}`, () => {
      const { scheduler, handler } = setup({ latencyMs: 10 });
      scheduler.run(({ cold, expectObservable }) => {
        const metadata =
          ending === 'side-input error'
            ? cold('a-b---#', { a: meta('old'), b: meta('new') })
            : cold('a-b', { a: meta('old'), b: meta('new') });
        // x runs on old 2→12; new loads 2→4 and becomes current; the stream ends at 6, x still running on old.
        const source = cold('--x-----');
        const out = source.pipe(runInference(handler, { modelMetadata: metadata, scheduler, metrics: false }));
        if (ending === 'side-input error') expectObservable(out).toBe('------#');
        else expectObservable(out, '^-----!').toBe('-');
      });
      expect(handler.loads).toEqual(['old', 'new']);
      expect([...handler.releases].sort()).toEqual(['new', 'old']);
    });
  }
});
