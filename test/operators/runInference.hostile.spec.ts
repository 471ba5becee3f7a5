import { config as rxConfig, from, type Observable, of, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { type Either, isLeft, isRight } from 'fp-ts/lib/Either.js';
import {
  type FailedRecord,
  InferenceError,
  InferenceTimeoutError,
  KeyedModelHandler,
  MaybeKeyedModelHandler,
  modelHandler,
  runInference,
  withExceptionHandling,
} from '../../src/index';

/** Everything rxjs would have thrown out of the stack (a process crash outside jest). */
let unhandled: unknown[] = [];
beforeEach(() => {
  unhandled = [];
  rxConfig.onUnhandledError = (error) => unhandled.push(error);
});
afterEach(() => {
  rxConfig.onUnhandledError = null;
});

interface Outcome<T> {
  readonly values: T[];
  readonly error: unknown;
  readonly completed: boolean;
}

/** Subscribes and waits until the stream ends (or the microtask queue settles, for a stream that stalls). */
async function outcome<T>(stream: Observable<T>): Promise<Outcome<T>> {
  const values: T[] = [];
  let error: unknown;
  let completed = false;
  let ended = false;
  await new Promise<void>((resolve) => {
    stream.subscribe({
      next: (v) => values.push(v),
      error: (e: unknown) => {
        error = e;
        ended = true;
        resolve();
      },
      complete: () => {
        completed = true;
        ended = true;
        resolve();
      },
    });
    if (!ended) setTimeout(resolve, 200);
  });
  return { values, error, completed };
}

const NON_ARRAYS: readonly [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 42],
  ['a plain object', { a: 1 }],
  ['a string', 'abc'],
  ['a Set', new Set([1, 2, 3])],
];

describe('runInference with a handler that returns something other than an array', () => {
  const shapes: readonly [string, (bad: unknown) => unknown][] = [
    ['synchronously', (bad) => bad],
    ['from a Promise', (bad) => Promise.resolve(bad)],
    ['from an Observable', (bad) => of(bad)],
  ];
  for (const [how, wrap] of shapes) {
    for (const [what, bad] of NON_ARRAYS) {
      const base = () => modelHandler({ runInference: () => wrap(bad) as never });
      const handlers: readonly [string, () => any][] = [
        ['modelHandler', base],
        ['KeyedModelHandler', () => new KeyedModelHandler(base())],
        ['KeyedModelHandler (groups)', () => new KeyedModelHandler([{ keys: ['k'], handler: base() }])],
        ['MaybeKeyedModelHandler', () => new MaybeKeyedModelHandler(base())],
      ];
      for (const [kind, make] of handlers) {
        const inputs = kind.startsWith('Keyed')
          ? [
              ['k', 1],
              ['k', 2],
              ['k', 3],
            ]
          : [1, 2, 3];

        it(`${kind} returning ${what} ${how}: the stream errors with an InferenceError (plain)`, async () => {
          const result = await outcome(from(inputs).pipe(runInference(make(), { metrics: false })));
          expect(unhandled).toEqual([]);
          expect(result.error).toBeInstanceOf(InferenceError);
          expect((result.error as Error).message).toMatch(/expected (exactly one result per element|an array)/);
          expect(result.values).toEqual([]);
        });

        it(`${kind} returning ${what} ${how}: every element is a failure record (exception mode)`, async () => {
          const result = await outcome(
            from(inputs).pipe(withExceptionHandling(runInference(make(), { metrics: false }))),
          );
          expect(unhandled).toEqual([]);
          expect(result.completed).toBe(true);
          expect(result.values).toHaveLength(3);
          for (const r of result.values as Either<FailedRecord, unknown>[]) {
            expect(isLeft(r) && r.left.stage).toBe('inference');
            if (isLeft(r)) expect(r.left.error).toBeInstanceOf(InferenceError);
          }
        });
      }
    }
  }

  it('withNoBatching: a non-array result fails the element, not the process', async () => {
    const handler = modelHandler({ runInference: () => 7 as never }).withNoBatching();
    const result = await outcome(
      from([[1, 2], [3]]).pipe(withExceptionHandling(runInference(handler, { metrics: false }))),
    );
    expect(unhandled).toEqual([]);
    expect(result.values.map((r) => isLeft(r as Either<FailedRecord, unknown>))).toEqual([true, true]);
  });

  it('an Observable emitting one array and one non-array chunk fails the batch', async () => {
    const handler = modelHandler({ runInference: (batch: readonly number[]) => from([[...batch], 5]) as never });
    const result = await outcome(from([1]).pipe(runInference(handler, { metrics: false })));
    expect(result.error).toBeInstanceOf(InferenceError);
  });
});

/** Elements that throw on any property access. */
function hostileElements(): [string, () => unknown][] {
  return [
    [
      'a revoked Proxy',
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      },
    ],
    [
      'an object with a throwing getter',
      () =>
        Object.defineProperty({}, 'x', {
          enumerable: true,
          get() {
            throw new Error('getter');
          },
        }),
    ],
    [
      'an object with a throwing then getter',
      () =>
        Object.defineProperty({}, 'then', {
          enumerable: true,
          get() {
            throw new Error('then');
          },
        }),
    ],
  ];
}

describe('runInference with elements whose property access throws', () => {
  for (const [what, make] of hostileElements()) {
    it(`${what} through a handler that reads it fails as that element (exception mode)`, async () => {
      const handler = modelHandler({
        runInference: (batch: readonly any[]) => batch.map((x) => (typeof x === 'number' ? x : Object.values(x))),
      });
      const source = from([1, make(), 3]);
      const result = await outcome(
        source.pipe(withExceptionHandling(runInference(handler, { metrics: false, batch: { maxBatchSize: 1 } }))),
      );
      expect(unhandled).toEqual([]);
      expect(result.completed).toBe(true);
      const rights = result.values.filter((r) => isRight(r as Either<FailedRecord, unknown>));
      expect(rights.map((r) => (r as { right: unknown }).right)).toEqual([1, 3]);
      const lefts = result.values.filter((r) => isLeft(r as Either<FailedRecord, unknown>)) as {
        left: FailedRecord;
      }[];
      expect(lefts).toHaveLength(1);
    });

    it(`${what} through a handler that ignores it is a value like any other (plain)`, async () => {
      const handler = modelHandler({ runInference: (batch: readonly unknown[]) => batch.map(() => 'ok') });
      const result = await outcome(from([1, make(), 3]).pipe(runInference(handler, { metrics: false })));
      expect(unhandled).toEqual([]);
      expect(result.values).toEqual(['ok', 'ok', 'ok']);
      expect(result.completed).toBe(true);
    });

    it(`${what} in a preprocess function that reads it fails that element`, async () => {
      const handler = modelHandler({ runInference: (batch: readonly number[]) => [...batch] }).withPreprocessFn(
        (x: any): number => (typeof x === 'number' ? x : Object.values(x).length),
      );
      const result = await outcome(from([1, make(), 3]).pipe(withExceptionHandling(runInference(handler))));
      expect(unhandled).toEqual([]);
      expect(result.values.map((r) => isLeft(r as Either<FailedRecord, unknown>))).toEqual([false, true, false]);
    });

    it(`${what} returned by a preprocess function fails that element, not the process`, async () => {
      const hostile = make();
      const handler = modelHandler({ runInference: (batch: readonly unknown[]) => batch.map(() => 'ok') })
        .withPreprocessFn((x: number) => (x === 2 ? hostile : x))
        .withPostprocessFn((x: string) => x);
      const subject = new Subject<number>();
      const done = outcome(subject.pipe(withExceptionHandling(runInference(handler, { metrics: false }))));
      for (const x of [1, 2, 3]) subject.next(x);
      subject.complete();
      const result = await done;
      expect(unhandled).toEqual([]);
      expect(result.completed).toBe(true);
      expect(result.values).toHaveLength(3);
    });
  }
});

describe('elements with a then method, and preprocessing that never settles (#13 item 10)', () => {
  it('an element with a then method is a value: it reaches the model as it is and the stream completes', async () => {
    const never = { then: () => undefined, id: 2 };
    const seen: unknown[] = [];
    const handler = modelHandler({
      runInference: (batch: readonly unknown[]) =>
        batch.map((x) => (seen.push(x), typeof x === 'number' ? x : 'thenable')),
    });
    const result = await outcome(from([1, never, 3]).pipe(runInference(handler, { metrics: false })));
    expect(result.completed).toBe(true);
    expect(result.values).toEqual([1, 'thenable', 3]);
    expect(seen).toContain(never);
  });

  it('a preprocess Promise that never settles fails its element after timeoutMs; the others go on, in order', () => {
    // A Promise under a TestScheduler: the engine says once that it leaves virtual time (issue 16).
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const test = new TestScheduler((a, b) => expect(a).toEqual(b));
    const handler = modelHandler({ runInference: (batch: readonly number[]) => batch.map((x) => x * 10) })
      .withPreprocessFn((x: number) => x)
      .withPreprocessFn((x: number) => (x === 2 ? new Promise<number>(() => undefined) : x));
    const values: Either<FailedRecord, number>[] = [];
    let completed = false;
    from([1, 2, 3])
      .pipe(withExceptionHandling(runInference(handler, { scheduler: test, metrics: false, timeoutMs: 50 })))
      .subscribe({ next: (v) => values.push(v), complete: () => (completed = true) });
    test.flush();
    expect(completed).toBe(true);
    expect(values.map((v) => (isLeft(v) ? 'L' : v.right))).toEqual([10, 'L', 30]);
    const failed = (values[1] as { left: FailedRecord }).left;
    expect(failed).toMatchObject({ stage: 'preprocess', index: 0, element: 2 });
    expect(failed.error).toBeInstanceOf(InferenceTimeoutError);
    expect(failed.error.message).toMatch(/Preprocess function 0 took longer than timeoutMs \(50 ms\) on element 1/);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/returned a Promise while runInference runs on a virtual-time/),
    );
    warn.mockRestore();
  });
});
