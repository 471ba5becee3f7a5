import fc from 'fast-check';
import { concat, concatMap, delay, from, isObservable, map, type Observable, of, tap, throwError, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { type Either, isLeft } from 'fp-ts/lib/Either.js';
import type { FailedRecord, InferenceContext } from '../../src/index';
import { runInference, withExceptionHandling, type FakeModel, FakeModelHandler } from '../../src/index';

interface Item {
  readonly id: number;
}

/** The input id an output or a failure record stands for, whatever step it failed in. */
function idOf(result: Either<FailedRecord, number>): number {
  if (!isLeft(result)) return result.right;
  const element = result.left.element;
  return typeof element === 'number' ? element : (element as Item).id;
}

describe('runInference under withExceptionHandling (property)', () => {
  it('emits every input exactly once, as a result or a failure, in input order when ordered', () => {
    const scenario = fc.record({
      n: fc.integer({ min: 0, max: 40 }),
      gaps: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 40, maxLength: 40 }),
      failPre0: fc.array(fc.integer({ min: 0, max: 39 }), { maxLength: 6 }),
      failPre1: fc.array(fc.integer({ min: 0, max: 39 }), { maxLength: 6 }),
      failInference: fc.array(fc.integer({ min: 0, max: 39 }), { maxLength: 6 }),
      failPost: fc.array(fc.integer({ min: 0, max: 39 }), { maxLength: 6 }),
      latencies: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 8 }),
      minBatchSize: fc.integer({ min: 1, max: 4 }),
      extra: fc.integer({ min: 0, max: 8 }),
      concurrent: fc.integer({ min: 1, max: 4 }),
      ordered: fc.boolean(),
      bisect: fc.boolean(),
      timeBound: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(scenario, (s) => {
        const pre0 = new Set(s.failPre0);
        const pre1 = new Set(s.failPre1);
        const inference = new Set(s.failInference);
        const post = new Set(s.failPost);
        let call = 0;
        const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
        const handler = new FakeModelHandler({
          run: (x: Item) => {
            if (inference.has(x.id)) throw new Error(`poison ${x.id}`);
            return x.id;
          },
          latencyMs: () => s.latencies[call++ % s.latencies.length],
        })
          .withPreprocessFn((x: Item) => {
            if (pre1.has(x.id)) throw new Error('pre1');
            return x;
          })
          .withPreprocessFn((i: number): Item => {
            if (pre0.has(i)) throw new Error('pre0');
            return { id: i };
          })
          .withPostprocessFn((id: number) => {
            if (post.has(id)) throw new Error('post');
            return id;
          });
        const results: Either<FailedRecord, number>[] = [];
        let completed = false;
        scheduler.run(() => {
          const inputs = Array.from({ length: s.n }, (_, i) => i);
          from(inputs)
            .pipe(
              concatMap((x, k) => (s.gaps[k] === 0 ? of(x) : of(x).pipe(delay(s.gaps[k])))),
              withExceptionHandling(
                runInference(handler, {
                  scheduler,
                  concurrent: s.concurrent,
                  ordered: s.ordered,
                  metrics: false,
                  batch: {
                    minBatchSize: s.minBatchSize,
                    maxBatchSize: s.minBatchSize + s.extra,
                    maxBatchDurationMs: s.timeBound,
                  },
                }),
                { bisect: s.bisect },
              ),
            )
            .subscribe({ next: (r) => results.push(r), complete: () => (completed = true) });
        });
        expect(completed).toBe(true);
        const ids = results.map(idOf);
        expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: s.n }, (_, i) => i));
        if (s.ordered) expect(ids).toEqual(Array.from({ length: s.n }, (_, i) => i));
        for (const r of results) {
          const id = idOf(r);
          if (!isLeft(r)) {
            // A success never hides a failure it should have been.
            expect(pre0.has(id) || pre1.has(id) || inference.has(id) || post.has(id)).toBe(false);
            continue;
          }
          const { stage, index } = r.left;
          if (pre0.has(id)) expect([stage, index]).toEqual(['preprocess', 0]);
          else if (pre1.has(id)) expect([stage, index]).toEqual(['preprocess', 1]);
          else if (inference.has(id) || (!s.bisect && stage === 'inference')) expect(stage).toBe('inference');
          else expect([stage, index]).toEqual(['postprocess', 0]);
        }
        if (s.bisect) {
          // With bisection only the poison elements fail in inference.
          for (const r of results) {
            if (isLeft(r) && r.left.stage === 'inference') expect(inference.has(idOf(r))).toBe(true);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

/** A fake whose batches may come back hostile, and that records every model it handed out and every release. */
class HostileHandler extends FakeModelHandler<unknown, number> {
  readonly handedOut: FakeModel[] = [];
  readonly released: FakeModel[] = [];
  private call = 0;

  constructor(
    ids: ReadonlyMap<unknown, number>,
    private readonly hostility: readonly ('ok' | 'null' | 'number' | 'short' | 'throw' | 'chunk')[],
    latencies: readonly number[],
    scheduler: TestScheduler,
    failLoad: (id: string) => boolean,
  ) {
    super({
      run: (x) => {
        const id = ids.get(x);
        if (id === undefined) throw new Error('unknown element');
        return id;
      },
      latencyMs: () => latencies[this.call % latencies.length]!,
      loadLatencyMs: (id) => (id.length % 3) + 1,
      scheduler,
      failLoad,
    });
  }

  override loadModel(modelId?: string): FakeModel | Observable<FakeModel> {
    const result = super.loadModel(modelId);
    if (!isObservable(result)) {
      this.handedOut.push(result);
      return result;
    }
    return result.pipe(tap((model) => this.handedOut.push(model)));
  }

  override releaseModel(model: FakeModel): void {
    this.released.push(model);
    super.releaseModel(model);
  }

  override runInference(batch: readonly unknown[], model: FakeModel, context: InferenceContext): any {
    const mode = this.hostility[this.call++ % this.hostility.length];
    switch (mode) {
      case 'null':
        return null;
      case 'number':
        return 42;
      case 'short':
        return batch.slice(1).map(() => 0);
      case 'throw':
        throw new Error('handler threw');
      case 'chunk':
        return of(7);
      default:
        return super.runInference(batch, model, context);
    }
  }
}

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

describe('runInference against hostile handlers, hostile elements, source errors and refresh races (property)', () => {
  it('every accepted element ends in exactly one of result or failure; every loaded model is released', () => {
    const scenario = fc.record({
      n: fc.integer({ min: 0, max: 30 }),
      gaps: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 30, maxLength: 30 }),
      hostileElements: fc.array(fc.integer({ min: 0, max: 29 }), { maxLength: 5 }),
      hostility: fc.array(fc.constantFrom('ok', 'ok', 'ok', 'null', 'number', 'short', 'throw', 'chunk'), {
        minLength: 1,
        maxLength: 10,
      }),
      latencies: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }),
      refreshes: fc.array(
        fc.record({ at: fc.integer({ min: 0, max: 40 }), id: fc.constantFrom('a', 'bb', 'ccc', 'bad') }),
        {
          maxLength: 6,
        },
      ),
      sourceError: fc.boolean(),
      concurrent: fc.integer({ min: 1, max: 3 }),
      ordered: fc.boolean(),
      bisect: fc.boolean(),
      minBatchSize: fc.integer({ min: 1, max: 4 }),
      unsubscribeAt: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(scenario, (s) => {
        const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
        const hostile = new Set(s.hostileElements);
        const inputs: unknown[] = Array.from({ length: s.n }, (_, i) => (hostile.has(i) ? revoked() : { i }));
        const ids = new Map(inputs.map((x, i) => [x, i] as const));
        const handler = new HostileHandler(ids, s.hostility, s.latencies, scheduler, (id) => id === 'bad');
        const updates = [{ at: 0, id: 'first' }, ...s.refreshes].sort((a, b) => a.at - b.at);
        const results: Either<FailedRecord, number>[] = [];
        let ended: 'complete' | 'error' | 'open' = 'open';
        scheduler.run(({ cold }) => {
          const metadata = from(updates).pipe(
            concatMap((u, k) => of({ modelId: u.id, modelName: u.id }).pipe(delay(u.at - (updates[k - 1]?.at ?? 0)))),
          );
          // Not `of(x)`: rxjs's `of` itself reads its last argument (looking for a scheduler), which a revoked Proxy refuses.
          const elements = from(inputs).pipe(
            concatMap((x, k) => (s.gaps[k] === 0 ? [x] : timer(s.gaps[k]!).pipe(map(() => x)))),
          );
          const source = s.sourceError
            ? concat(
                elements,
                throwError(() => new Error('source broke')),
              )
            : elements;
          const subscription = source
            .pipe(
              withExceptionHandling(
                runInference(handler, {
                  scheduler,
                  modelMetadata: metadata,
                  concurrent: s.concurrent,
                  ordered: s.ordered,
                  metrics: false,
                  batch: { minBatchSize: s.minBatchSize, maxBatchSize: s.minBatchSize + 3 },
                }),
                { bisect: s.bisect },
              ),
            )
            .subscribe({
              next: (r) => results.push(r),
              error: () => (ended = 'error'),
              complete: () => (ended = 'complete'),
            });
          if (s.unsubscribeAt !== undefined)
            cold(`${'-'.repeat(s.unsubscribeAt)}|`).subscribe({ complete: () => subscription.unsubscribe() });
        });
        const idOf = (r: Either<FailedRecord, number>): number => (isLeft(r) ? ids.get(r.left.element)! : r.right);
        const seen = results.map(idOf);
        // Never more than once, never an unknown element.
        expect(new Set(seen).size).toBe(seen.length);
        for (const id of seen) expect(id).toBeGreaterThanOrEqual(0);
        if (ended !== 'open') {
          // The stream ended by itself: every element came out (the source's error only after all of them).
          expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: s.n }, (_, i) => i));
          expect(ended).toBe(s.sourceError ? 'error' : 'complete');
        }
        if (s.ordered) expect(seen).toEqual([...seen].sort((a, b) => a - b));
        for (const r of results) {
          // A hostile handler's batch is a failure of its elements, never a wrong result.
          if (!isLeft(r)) expect(typeof r.right).toBe('number');
        }
        // Every model the handler handed out was released exactly once, however the stream ended.
        expect([...handler.released].sort((a, b) => a.load - b.load)).toEqual(
          [...handler.handedOut].sort((a, b) => a.load - b.load),
        );
      }),
      { numRuns: 200 },
    );
  });
});
