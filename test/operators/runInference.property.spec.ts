import fc from 'fast-check';
import { concatMap, delay, from, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { type Either, isLeft } from 'fp-ts/lib/Either.js';
import type { FailedRecord } from '../../src/core/types';
import { runInference } from '../../src/operators/runInference';
import { withExceptionHandling } from '../../src/operators/withExceptionHandling';
import { FakeModelHandler } from '../../src/testing/FakeModelHandler';

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
