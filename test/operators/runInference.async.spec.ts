import { from, Observable, of, Subject, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { type Either, isLeft } from 'fp-ts/lib/Either.js';
import {
  BufferOverflowError,
  ModelLoadError,
  modelHandler,
  partitionFailures,
  runInference,
  withExceptionHandling,
  FakeModelHandler,
} from '../../src/index';
import type { FailedRecord } from '../../src/index';
import { SharedModelRegistry } from '../../src/engine/SharedModelRegistry';

function collect<T>(source: Observable<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    source.subscribe({ next: (v) => out.push(v), error: reject, complete: () => resolve(out) });
  });
}

const show = (r: Either<FailedRecord, unknown>): unknown =>
  isLeft(r) ? `${r.left.stage}[${r.left.index}]:${String(r.left.element)}` : r.right;

const delayed = <T>(value: T, ms = 1): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));

const double = modelHandler({ runInference: (batch: readonly number[]) => batch.map((x) => x * 2) });

describe('runInference with asynchronous steps', () => {
  it('awaits async preprocess functions, in order, keeping output order', async () => {
    const handler = double
      .withPreprocessFn(async (x: number) => delayed(x + 1, x % 2 ? 5 : 1))
      .withPreprocessFn((x: string) => delayed(Number(x), 1));
    expect(await collect(from(['1', '2', '3', '4']).pipe(runInference(handler)))).toEqual([4, 6, 8, 10]);
  });

  it('reports the right index when an async preprocess function rejects or a later one throws', async () => {
    const handler = double
      .withPreprocessFn((x: number) => {
        if (x === 3) throw new Error('three');
        return x;
      })
      .withPreprocessFn(async (x: number) => {
        if (x === 2) throw new Error('two');
        return x;
      });
    const results = await collect(from([1, 2, 3]).pipe(withExceptionHandling(runInference(handler))));
    expect(results.map(show)).toEqual([2, 'preprocess[0]:2', 'preprocess[1]:3']);
  });

  it('chains two async preprocess functions', async () => {
    const handler = double.withPreprocessFn(async (x: number) => x + 1).withPreprocessFn(async (x: number) => x * 10);
    expect(await collect(from([1, 2]).pipe(runInference(handler)))).toEqual([22, 42]);
  });

  it('awaits async postprocess functions and indexes their failures', async () => {
    const handler = double
      .withPostprocessFn(async (x: number) => {
        if (x === 4) throw new Error('four');
        return x + 1;
      })
      .withPostprocessFn((x: number) => {
        if (x === 7) throw new Error('seven');
        return delayed(`${x}!`);
      });
    const results = await collect(from([1, 2, 3, 4]).pipe(withExceptionHandling(runInference(handler))));
    expect(results.map(show)).toEqual(['3!', 'postprocess[0]:4', 'postprocess[1]:7', '9!']);
  });

  it('post-processes the flattened outputs of withNoBatching, async ones too', async () => {
    const handler = double.withNoBatching().withPostprocessFn(async (x: number) => {
      if (x === 6) throw new Error('six');
      return x + 1;
    });
    const results = await collect(
      from([
        [1, 2],
        [3, 4],
      ]).pipe(withExceptionHandling(runInference(handler))),
    );
    expect(results.map(show)).toEqual([3, 5, 'postprocess[0]:6', 9]);
  });

  it('errors plain runInference on the first failure of a withNoBatching element', async () => {
    const handler = double.withNoBatching().withPostprocessFn((x: number) => {
      if (x === 4) throw new Error('four');
      return x;
    });
    await expect(collect(from([[1, 2], [3]]).pipe(runInference(handler)))).rejects.toThrow(
      /Postprocess function 0 failed: four/,
    );
  });

  it('loads a model returned as a Promise and releases a late one after unsubscribe', async () => {
    const released: number[] = [];
    let resolveLoad: (m: number) => void = () => undefined;
    const slow = modelHandler({
      loadModel: () => new Promise<number>((resolve) => (resolveLoad = resolve)),
      runInference: (batch: readonly number[], m: number) => batch.map((x) => x + m),
      releaseModel: (m: number) => void released.push(m),
    });
    const sub = new Subject<number>().pipe(runInference(slow)).subscribe();
    sub.unsubscribe();
    resolveLoad(7);
    await delayed(undefined);
    expect(released).toEqual([7]);
  });

  it('fails elements whose batch key function throws', async () => {
    const handler = double.withPreprocessFn((x: number) => x);
    const results = await collect(
      from([1, 2, 3]).pipe(
        withExceptionHandling(
          runInference(handler, {
            batch: {
              batchKeyFn: (x: number) => {
                if (x === 2) throw new Error('no key for 2');
                return x % 2;
              },
            },
          }),
        ),
      ),
    );
    expect(results.map(show)).toEqual([2, 'inference[0]:2', 6]);
  });

  it('turns queue overflow into failure records under withExceptionHandling', async () => {
    const handler = new FakeModelHandler({ run: (x: number) => x, latencyMs: 2 });
    const results = await collect(
      from([1, 2, 3, 4]).pipe(withExceptionHandling(runInference(handler, { maxBufferedElements: 2, metrics: false }))),
    );
    expect(results.map(show)).toEqual([1, 2, 3, 'inference[0]:4']);
    const overflow = results.find(isLeft)!.left.error;
    expect(overflow).toBeInstanceOf(BufferOverflowError);
  });

  it('honours a time bound inside runInference', async () => {
    const handler = new FakeModelHandler({ run: (x: number) => x });
    const input = new Subject<number>();
    const out: number[] = [];
    input
      .pipe(
        runInference(handler, { batch: { minBatchSize: 3, maxBatchSize: 3, maxBatchDurationMs: 20 }, metrics: false }),
      )
      .subscribe((v) => out.push(v));
    input.next(1);
    input.next(2);
    expect(out).toEqual([]);
    await delayed(undefined, 60);
    expect(out).toEqual([1, 2]);
    input.next(3);
    input.next(4);
    input.next(5);
    expect(out).toEqual([1, 2, 3, 4, 5]);
    expect(handler.batchSizes).toEqual([2, 3]);
  });

  it('wraps non-Error throws, keeping the original as cause', async () => {
    const handler = modelHandler({
      runInference: (): number[] => {
        throw 'plain string';
      },
    });
    const [failure] = (await collect(of(1).pipe(withExceptionHandling(runInference(handler))))).filter(isLeft);
    expect(failure.left.error.message).toMatch(/plain string/);
    expect(failure.left.error.cause).toBe('plain string');
  });

  it('accepts handler results as Observables emitting several chunks', async () => {
    const chunked = modelHandler({
      runInference: (batch: readonly number[]) => from([batch.slice(0, 1), batch.slice(1)]),
    });
    expect(
      await collect(from([1, 2, 3]).pipe(runInference(chunked, { batch: { minBatchSize: 3, maxBatchSize: 3 } }))),
    ).toEqual([1, 2, 3]);
  });
});

describe('SharedModelRegistry', () => {
  it('does not cache a failed load and reports it to every waiting user', async () => {
    const registry = new SharedModelRegistry();
    const errors: unknown[] = [];
    registry
      .acquire(
        'k',
        () => throwError(() => new Error('nope')),
        () => undefined,
      )
      .subscribe({ error: (e) => errors.push(e) });
    expect(errors).toHaveLength(1);
    expect(registry.size).toBe(0);
  });

  it('errors when a load completes without a model', () => {
    const registry = new SharedModelRegistry();
    const errors: unknown[] = [];
    registry
      .acquire(
        'k',
        () => new Observable<never>((s) => s.complete()),
        () => undefined,
      )
      .subscribe({ error: (e) => errors.push(e) });
    expect(String(errors[0])).toMatch(/completed without a model/);
  });

  it('cancels a load (its signal aborted) when its last user leaves before it ends; a newer user loads afresh', () => {
    const registry = new SharedModelRegistry();
    const signals: AbortSignal[] = [];
    const load = (signal: AbortSignal) => {
      signals.push(signal);
      return new Observable<string>(() => undefined);
    };
    const a = registry.acquire('k', load, () => undefined).subscribe();
    const b = registry.acquire('k', load, () => undefined).subscribe();
    expect(signals).toHaveLength(1);
    a.unsubscribe();
    expect(signals[0]!.aborted).toBe(false);
    b.unsubscribe();
    expect(signals[0]!.aborted).toBe(true);
    expect(registry.size).toBe(0);
    registry
      .acquire('k', load, () => undefined)
      .subscribe()
      .unsubscribe();
    expect(signals).toHaveLength(2);
  });

  it('releases a model once its last user leaves, and not before', () => {
    const registry = new SharedModelRegistry();
    const released: string[] = [];
    const a = registry
      .acquire(
        'k',
        () => of('model'),
        (m) => released.push(m),
      )
      .subscribe();
    const b = registry
      .acquire(
        'k',
        () => of('other'),
        (m) => released.push(m),
      )
      .subscribe();
    a.unsubscribe();
    expect(released).toEqual([]);
    b.unsubscribe();
    expect(released).toEqual(['model']);
    expect(registry.size).toBe(0);
  });
});

describe('model load errors', () => {
  it('keeps a ModelLoadError thrown by a handler as it is', async () => {
    const error = new ModelLoadError('custom', 'x');
    const handler = modelHandler({
      loadModel: () => {
        throw error;
      },
      runInference: (b: readonly number[]) => b,
    });
    await expect(collect(of(1).pipe(runInference(handler)))).rejects.toBe(error);
  });

  it('rejects an Observable load that completes without a model', async () => {
    const handler = modelHandler({
      loadModel: () => new Observable<number>((s) => s.complete()),
      runInference: (b: readonly number[]) => b,
    });
    await expect(collect(of(1).pipe(runInference(handler)))).rejects.toThrow(/completed without a model/);
  });
});

describe('partitionFailures', () => {
  it('forwards a source error to both halves and stops when both leave', () => {
    const [ok$, failed$] = partitionFailures<number>(throwError(() => new Error('broken')));
    const errors: string[] = [];
    ok$.subscribe({ error: (e: Error) => errors.push(`ok:${e.message}`) });
    failed$.subscribe({ error: (e: Error) => errors.push(`failed:${e.message}`) });
    expect(errors).toEqual(['ok:broken', 'failed:broken']);
  });
});

describe('user callbacks that throw', () => {
  it('ends the stream (not the process) when onModelLoadError throws', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const handler = new FakeModelHandler({ run: (x: string) => x, failLoad: (id) => id === 'bad', scheduler });
    scheduler.run(({ cold, expectObservable }) => {
      const metadata = cold('a-b', { a: { modelId: 'good', modelName: '' }, b: { modelId: 'bad', modelName: '' } });
      const onModelLoadError = (): void => {
        throw new Error('callback bug');
      };
      expectObservable(
        cold('x---').pipe(
          runInference(handler, { modelMetadata: metadata, scheduler, onModelLoadError, metrics: false }),
        ),
      ).toBe('x-#', { x: 'x' }, new Error('callback bug'));
    });
  });

  it('keeps the batch when a getNumBytes override throws', async () => {
    const handler = modelHandler({
      runInference: (batch: readonly number[]) => batch,
      getNumBytes: () => {
        throw new Error('cannot size');
      },
    });
    expect(await collect(from([1, 2]).pipe(runInference(handler)))).toEqual([1, 2]);
  });
});

describe('withNoBatching input checks', () => {
  it('fails an empty batch or a non-array element with a clear error, and goes on', async () => {
    const results = await collect(
      from([[1, 2], [], 'x' as unknown as number[], [3]]).pipe(
        withExceptionHandling(runInference(double.withNoBatching())),
      ),
    );
    expect(results.map((r) => (isLeft(r) ? r.left.error.message : r.right))).toEqual([
      2,
      4,
      expect.stringMatching(
        /Element 1 is an empty batch; with withNoBatching\(\) every element must be a non-empty array/,
      ),
      expect.stringMatching(/Element 2 is not a batch: `x` \(string\)/),
      6,
    ]);
  });
});
