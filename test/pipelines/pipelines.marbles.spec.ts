import { cold, hot, schedule, time } from 'jest-marbles';
import { BehaviorSubject, map, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { partitionFailures, runInference, withExceptionHandling, type ModelMetadata } from 'rxjs-inference';
import { FakeModelHandler } from 'rxjs-inference/testing';

// Users' pipelines, tested as users would (README "Testing your pipelines"): jest-marbles' cold/hot/toBeObservable
// through the public entry points. jest-marbles flushes inside TestScheduler.run, so runInference's default scheduler
// is virtual: nothing to inject. In jest-marbles 3 one frame is 10 virtual ms: durations come from time().
const M1: ModelMetadata = { modelId: 'm1', modelName: 'first' };
const M2: ModelMetadata = { modelId: 'm2', modelName: 'second' };

describe('preprocess → runInference → postprocess', () => {
  it('parses, runs on batches that take 3 frames each, formats; one result per input, in order', () => {
    const handler = FakeModelHandler.predicting({ run: (x: number) => x * 10, latencyMs: time('---|') })
      .withPreprocessFn((line: string) => Number(line))
      .withPostprocessFn(({ example, inference }) => `${example}->${inference}`);
    const source = cold('    -a-b-c-|      ', { a: '1', b: '2', c: '3' });
    const expected = cold('  ----A--B--(C|)', { A: '1->10', B: '2->20', C: '3->30' });
    expect(source.pipe(runInference(handler, { metrics: false }))).toBeObservable(expected);
    expect(source).toHaveSubscriptions('^------!');
  });

  it('a preprocess function returning an Observable stays in virtual time', () => {
    // An asynchronous lookup of 2 frames before the model (e.g. a feature store): an Observable, not a Promise.
    const lookup = (id: string) => timer(time('--|')).pipe(map(() => Number(id)));
    const handler = FakeModelHandler.predicting({ run: (x: number) => x + 1, latencyMs: time('---|') })
      .withPreprocessFn(lookup)
      .withPostprocessFn(({ inference }) => inference);
    const source = cold('    -a-b-c-|       ', { a: '1', b: '2', c: '3' });
    const expected = cold('  ------A--B--(C|)', { A: 2, B: 3, C: 4 });
    expect(source.pipe(runInference(handler, { metrics: false }))).toBeObservable(expected);
  });
});

describe('dead letters', () => {
  it('a line that fails to parse goes to the dead-letter stream; the others are scored, in order', () => {
    const handler = FakeModelHandler.predicting({ run: (x: number) => x * 2 }).withPreprocessFn((line: string) => {
      const value = Number(line);
      if (Number.isNaN(value)) throw new Error(`not a number: ${line}`);
      return value;
    });
    const source = cold('-a-x-c-|', { a: '1', x: 'x', c: '3' });
    const [scored$, deadLetters$] = partitionFailures(
      source.pipe(withExceptionHandling(runInference(handler, { metrics: false }))),
    );
    expect(scored$.pipe(map((r) => r.inference))).toBeObservable(cold('-a---c-|', { a: 2, c: 6 }));
    const described = deadLetters$.pipe(map((f) => `${f.stage} ${f.index} ${String(f.element)}: ${f.error.message}`));
    expect(described).toBeObservable(
      cold('---x---|', { x: 'preprocess 0 x: Preprocess function 0 failed: not a number: x' }),
    );
  });
});

describe('batching under load', () => {
  it('elements arriving while a batch runs wait, and go together in the next batch', () => {
    const handler = new FakeModelHandler({ run: (x: string) => x.toUpperCase(), latencyMs: time('-----|') });
    const source = hot('  -a(bcdefg)----------|');
    const expected = cold('------A----(BCDEFG)-|', { A: 'A', B: 'B', C: 'C', D: 'D', E: 'E', F: 'F', G: 'G' });
    expect(source.pipe(runInference(handler, { metrics: false }))).toBeObservable(expected);
    expect(source).toSatisfyOnFlush(() => expect(handler.batches).toEqual([['a'], ['b', 'c', 'd', 'e', 'f', 'g']]));
  });
});

describe('refresh through a BehaviorSubject', () => {
  it('a new ModelMetadata swaps the model between elements; the old one is released', () => {
    const handler = FakeModelHandler.predicting({ run: (x: number) => x });
    const models = new BehaviorSubject<ModelMetadata>(M1);
    schedule(() => models.next(M2), time('----|'));
    const source = cold('-a------b-|', { a: 1, b: 2 });
    const modelIds = source.pipe(
      runInference(handler, { modelMetadata: models, metrics: false }),
      map((r) => r.modelId),
    );
    expect(modelIds).toBeObservable(cold('-a------b-|', { a: 'm1', b: 'm2' }));
    expect(source).toSatisfyOnFlush(() => {
      expect(handler.loads).toEqual(['m1', 'm2']);
      expect(handler.releases).toEqual(['m1', 'm2']);
    });
  });
});

describe('the same with TestScheduler.run (one frame = 1 virtual ms)', () => {
  it('parses, runs, formats', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
      const handler = FakeModelHandler.predicting({ run: (x: number) => x * 10, latencyMs: 3 })
        .withPreprocessFn((line: string) => Number(line))
        .withPostprocessFn(({ inference }) => inference);
      const source = cold('-a-b-c-|', { a: '1', b: '2', c: '3' });
      expectObservable(source.pipe(runInference(handler, { metrics: false }))).toBe('----A--B--(C|)', {
        A: 10,
        B: 20,
        C: 30,
      });
    });
  });

  it('a preprocess function returning a Promise leaves virtual time: the test sees nothing, and gets a hint', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const seen: unknown[] = [];
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold }) => {
      const handler = FakeModelHandler.predicting({ run: (x: number) => x }).withPreprocessFn(async (line: string) =>
        Number(line),
      );
      cold('-a-|', { a: '1' })
        .pipe(runInference(handler, { metrics: false }))
        .subscribe((result) => seen.push(result));
    });
    expect(seen).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/a preprocess function returned a Promise .* Return an Observable/);
    warn.mockRestore();
  });
});
