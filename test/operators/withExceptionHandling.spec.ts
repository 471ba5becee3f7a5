import { bufferCount, from, map, Observable, pipe, take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { type Either, isLeft, isRight } from 'fp-ts/lib/Either.js';
import {
  isExceptionAwareStage,
  modelHandler,
  partitionFailures,
  runInference,
  streamInference,
  withExceptionHandling,
} from '../../src/index';
import type { FailedRecord } from '../../src/index';
import { FakeModelHandler } from '../../src/testing';

function collect<T>(source: Observable<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    source.subscribe({ next: (v) => out.push(v), error: reject, complete: () => resolve(out) });
  });
}

function split<T>(results: Either<FailedRecord, T>[]): { ok: T[]; failed: FailedRecord[] } {
  return {
    ok: results.filter(isRight).map((r) => r.right),
    failed: results.filter(isLeft).map((r) => r.left),
  };
}

/** Beam's test model: x + 1, throwing on anything that is not a number. */
const addOne = modelHandler({
  loadModel: () => 1,
  runInference: (batch: readonly unknown[], inc: number) =>
    batch.map((x) => {
      if (typeof x !== 'number') throw new TypeError(`cannot add to ${String(x)}`);
      return x + inc;
    }),
});

describe('withExceptionHandling(runInference(...)) — Beam dead-letter cases', () => {
  it('preprocess throws on "5" → results [3,7,21], one Left{stage: preprocess, index: 0, element: "5"}', async () => {
    const handler = addOne.withPreprocessFn((x: string) => {
      if (x === '5') throw new Error('five is not allowed');
      return parseInt(x, 10) * 2;
    });
    const { ok, failed } = split(
      await collect(from(['1', '5', '3', '10']).pipe(withExceptionHandling(runInference(handler, { metrics: false })))),
    );
    expect(ok).toEqual([3, 7, 21]);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ stage: 'preprocess', index: 0, element: '5' });
    expect(failed[0].error.message).toMatch(/five is not allowed/);
    expect((failed[0].error.cause as Error).message).toBe('five is not allowed');
  });

  it('postprocess throws on 6', async () => {
    const handler = addOne.withPostprocessFn((x: number) => {
      if (x === 6) throw new Error('six');
      return x;
    });
    const { ok, failed } = split(await collect(from([1, 5, 3, 10]).pipe(withExceptionHandling(runInference(handler)))));
    expect(ok).toEqual([2, 4, 11]);
    expect(failed).toEqual([expect.objectContaining({ stage: 'postprocess', index: 0, element: 6 })]);
  });

  it('indexes failures by execution order with two preprocess functions and a postprocess function', async () => {
    const handler = addOne
      .withPreprocessFn((x: number) => {
        if (x === 20) throw new Error('second fn fails on 20');
        return x;
      })
      .withPreprocessFn((x: string) => {
        if (x === 'bad') throw new Error('first fn fails on bad');
        return parseInt(x, 10) * 2;
      })
      .withPostprocessFn((x: number) => {
        if (x === 7) throw new Error('post fails on 7');
        return x;
      });
    const results = await collect(from(['1', 'bad', '10', '3']).pipe(withExceptionHandling(runInference(handler))));
    // Left and Right together follow input order.
    expect(results.map((r) => (isLeft(r) ? `L${r.left.stage[0]}${r.left.index}` : r.right))).toEqual([
      3,
      'Lp0',
      'Lp1',
      'Lp0',
    ]);
    const { failed } = split(results);
    expect(failed.map((f) => f.element)).toEqual(['bad', 20, 7]);
    expect(failed[2].stage).toBe('postprocess');
  });

  it('isolates inference failures inside one batch: [1,"TEST",3,10,"TEST2"] → [2,4,11] + two failures', async () => {
    const spy = jest.spyOn(addOne, 'runInference');
    const results = await collect(
      from([1, 'TEST', 3, 10, 'TEST2']).pipe(
        withExceptionHandling(runInference(addOne, { batch: { minBatchSize: 5, maxBatchSize: 5 } })),
      ),
    );
    const { ok, failed } = split(results);
    expect(ok).toEqual([2, 4, 11]);
    expect(failed.map((f) => f.element)).toEqual(['TEST', 'TEST2']);
    for (const f of failed) {
      expect(f).toMatchObject({ stage: 'inference', index: 0, batch: [1, 'TEST', 3, 10, 'TEST2'] });
      expect(f.error.name).toBe('InferenceError');
    }
    // All five shared one batch first.
    expect(spy.mock.calls[0][0]).toEqual([1, 'TEST', 3, 10, 'TEST2']);
    spy.mockRestore();
  });

  it('without bisection, every element of a failed batch fails', async () => {
    const { ok, failed } = split(
      await collect(
        from([1, 'TEST', 3]).pipe(
          withExceptionHandling(runInference(addOne, { batch: { minBatchSize: 3, maxBatchSize: 3 } }), {
            bisect: false,
          }),
        ),
      ),
    );
    expect(ok).toEqual([]);
    expect(failed.map((f) => f.element)).toEqual([1, 'TEST', 3]);
  });

  it('turns a wrong result count into failures naming the counts', async () => {
    const short = modelHandler({ loadModel: () => 0, runInference: (batch: readonly number[]) => batch.slice(1) });
    const { failed } = split(
      await collect(
        from([1, 2]).pipe(
          withExceptionHandling(runInference(short, { batch: { minBatchSize: 2, maxBatchSize: 2 } }), {
            bisect: false,
          }),
        ),
      ),
    );
    expect(failed).toHaveLength(2);
    expect(failed[0].error.message).toMatch(/returned 1 results for a batch of 2/);
  });

  it('still errors the stream when no model could ever be loaded', async () => {
    const broken = new FakeModelHandler({ run: (x: number) => x, failLoad: () => true });
    await expect(collect(from([1]).pipe(withExceptionHandling(runInference(broken))))).rejects.toThrow(
      /Failed to load model/,
    );
  });

  it('keeps order of Lefts and Rights with concurrency and latency in virtual time', () => {
    const results: Either<FailedRecord, string>[] = [];
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold }) => {
      const handler = new FakeModelHandler({
        run: (x: string) => {
          if (x === 'x') throw new Error('poison');
          return x.toUpperCase();
        },
        latencyMs: (batch) => 1 + batch.length * 2,
      });
      cold('ab(cxd)ex-f|')
        .pipe(withExceptionHandling(runInference(handler, { concurrent: 2, metrics: false })))
        .subscribe((r) => results.push(r));
    });
    expect(results.map((r) => (isLeft(r) ? `!${r.left.element}` : r.right))).toEqual([
      'A',
      'B',
      'C',
      '!x',
      'D',
      'E',
      '!x',
      'F',
    ]);
  });
});

describe('withExceptionHandling(chain, { perElement: true }) — an element-wise chain', () => {
  it('runs each element on its own and turns a throw into Left{stage: "stage"}', async () => {
    const chain = map((x: number) => {
      if (x === 2) throw new Error('two');
      return x * 10;
    });
    const results = await collect(from([1, 2, 3]).pipe(withExceptionHandling(chain, { perElement: true })));
    expect(results.map((r) => (isLeft(r) ? r.left : r.right))).toEqual([
      10,
      expect.objectContaining({ stage: 'stage', index: 0, element: 2 }),
      30,
    ]);
  });

  it('stops a synchronous infinite source cut by take', () => {
    let produced = 0;
    const out: unknown[] = [];
    const source = new Observable<number>((s) => {
      for (let i = 0; !s.closed; i++) {
        produced++;
        s.next(i);
      }
    });
    source
      .pipe(
        withExceptionHandling(
          map((x: number) => x),
          { perElement: true },
        ),
        take(3),
      )
      .subscribe((v) => out.push(v));
    expect(out).toHaveLength(3);
    expect(produced).toBeLessThan(10);
  });

  it('validates its arguments', () => {
    expect(() => withExceptionHandling(null as never)).toThrow(TypeError);
    expect(() =>
      withExceptionHandling(
        map((x) => x),
        { perElement: true, bisect: 'yes' as never },
      ),
    ).toThrow(/bisect/);
  });
});

// What may be wrapped is a contract the compiler checks (RunInferenceOperator, or an element-wise chain declared with
// perElement), and JavaScript callers get a TypeError when the operator is created, not a silently different result.
describe('withExceptionHandling: misuse caught when the operator is created (issue 16)', () => {
  it('a buffering operator is not wrapped element by element without being asked: TypeError', () => {
    // @ts-expect-error bufferCount is not a runInference operator, and perElement is not given.
    const wrap = () => withExceptionHandling(bufferCount(2));
    expect(wrap).toThrow(TypeError);
    expect(wrap).toThrow(
      /not a runInference\(\.\.\.\) or streamInference\(\.\.\.\) operator.*bufferCount is not element-wise/,
    );
  });

  it('a pipe() chain containing runInference is a TypeError naming the two fixes', () => {
    const chain = pipe(
      map((x: string) => Number(x)),
      runInference(addOne, { metrics: false }),
    );
    // @ts-expect-error pipe() returns a plain OperatorFunction: the runInference hook is lost.
    expect(() => withExceptionHandling(chain)).toThrow(
      /withPreprocessFn.*pipe\(map\(f\), withExceptionHandling\(runInference\(h\)\)\)/,
    );
  });

  it('the contract is ExceptionAwareStage: runInference and streamInference operators are, pipe() and look-alikes are not', () => {
    expect(isExceptionAwareStage(runInference(addOne))).toBe(true);
    expect(isExceptionAwareStage(streamInference(addOne))).toBe(true);
    expect(
      isExceptionAwareStage(
        pipe(
          map((x: number) => x),
          runInference(addOne),
        ),
      ),
    ).toBe(false);
    expect(isExceptionAwareStage(map((x: number) => x))).toBe(false);
    // A function that merely has the property (duck typing) is not registered, so it is not wrapped as a whole.
    const lookAlike = Object.assign(
      map((x: number) => x + 1),
      { withFailuresAsValues: () => map(() => 'never used') },
    );
    expect(isExceptionAwareStage(lookAlike)).toBe(false);
    expect(() => withExceptionHandling(lookAlike as never)).toThrow(/not a runInference/);
  });

  it('perElement on a runInference operator is a TypeError (it is batched as a whole)', () => {
    expect(() => withExceptionHandling(runInference(addOne), { perElement: true })).toThrow(/perElement: true/);
  });

  it('a misspelt option is a TypeError listing the known ones', () => {
    expect(() => withExceptionHandling(runInference(addOne), { bisec: true } as never)).toThrow(
      new TypeError(
        'Unknown option `bisec` in withExceptionHandling config (did you mean `bisect`?); known options: bisect, perElement.',
      ),
    );
  });

  it('the element-wise path still works when declared, and bufferCount then sees one element at a time', async () => {
    const results = await collect(from([1, 2, 3]).pipe(withExceptionHandling(bufferCount(2), { perElement: true })));
    expect(results.map((r) => (isLeft(r) ? r.left : r.right))).toEqual([[1], [2], [3]]);
  });
});

describe('partitionFailures', () => {
  it('splits Rights and Lefts, subscribing the source once when both halves are subscribed', async () => {
    let subscriptions = 0;
    const handler = addOne.withPreprocessFn((x: string) => {
      if (x === 'x') throw new Error('nan');
      return Number(x);
    });
    const source = new Observable<string>((s) => {
      subscriptions++;
      for (const v of ['1', 'x', '3']) s.next(v);
      s.complete();
    });
    const [ok$, failed$] = partitionFailures(source.pipe(withExceptionHandling(runInference(handler))));
    const ok: number[] = [];
    const failed: FailedRecord[] = [];
    const done = Promise.all([
      new Promise<void>((r) => ok$.subscribe({ next: (v) => ok.push(v), complete: r })),
      new Promise<void>((r) => failed$.subscribe({ next: (v) => failed.push(v), complete: r })),
    ]);
    await done;
    expect(ok).toEqual([2, 4]);
    expect(failed.map((f) => f.element)).toEqual(['x']);
    expect(subscriptions).toBe(1);
  });
});
