import { lastValueFrom, Observable, of, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { isLeft, type Either } from 'fp-ts/lib/Either.js';
import {
  InferenceError,
  MetricsRegistry,
  modelHandler,
  partialOutput,
  runInference,
  streamInference,
  withExceptionHandling,
  type FailedRecord,
  type InferenceEvent,
} from 'rxjs-inference';
import { FakeModelHandler } from 'rxjs-inference/testing';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Spells each word letter by letter (its partial outputs), then returns it in capitals; one step per `latencyMs`. */
function speller(latencyMs = 1) {
  return new FakeModelHandler<string, string>({
    run: (x) => {
      if (x.startsWith('!')) throw new Error(`cannot say ${x}`);
      return x.toUpperCase();
    },
    stream: (x) => [...x],
    latencyMs,
  });
}

type Event = InferenceEvent<string, string>;
const partial = (index: number, value: string): Event => ({ kind: 'partial', index, value });
const end = (index: number, result: string): Event => ({ kind: 'end', index, result });

/** Marble values: lowercase letters are partials, capitals ends, of the element given by `indexOf`. */
function events(spec: Record<string, [number, string]>): Record<string, Event> {
  return Object.fromEntries(
    Object.entries(spec).map(([key, [index, value]]) => [
      key,
      key === key.toUpperCase() && key !== '!' ? end(index, value) : partial(index, value),
    ]),
  );
}

/** Runs 'hi', '!x', 'ok' through withExceptionHandling(streamInference(speller)) and labels what comes out. */
function collectLabels(marbles: string, batch: { minBatchSize?: number }): string[] {
  const seen: string[] = [];
  testScheduler().run(({ cold, flush }) => {
    const source = cold(marbles, { a: 'hi', b: '!x', c: 'ok' });
    source
      .pipe(withExceptionHandling(streamInference(speller(1), { batch, metrics: false })))
      .subscribe((e: Either<FailedRecord, InferenceEvent<unknown, string>>) =>
        seen.push(
          isLeft(e)
            ? `L:${String(e.left.element)}:${e.left.stage}`
            : e.right.kind === 'partial'
              ? `${e.right.index}:${e.right.value}`
              : `end ${e.right.index}:${e.right.result}`,
        ),
      );
    flush();
  });
  return seen;
}

describe('streamInference', () => {
  it('the doc diagram: partial outputs as they come, then the end of each element', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a------b-|', { a: 'hi', b: 'ok' });
      const values = events({ h: [0, 'h'], i: [0, 'i'], A: [0, 'HI'], o: [1, 'o'], k: [1, 'k'], B: [1, 'OK'] });
      expectObservable(source.pipe(streamInference(speller(1), { metrics: false }))).toBe('--h(iA)--o(kB|)', values);
      expectSubscriptions(source.subscriptions).toBe('^---------!');
    });
  });

  it('ordered: the second element of a batch is held while the first streams, then delivered at once', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('(ab|)', { a: 'hi', b: 'yo!' });
      const values = events({
        h: [0, 'h'],
        i: [0, 'i'],
        A: [0, 'HI'],
        y: [1, 'y'],
        o: [1, 'o'],
        x: [1, '!'],
        B: [1, 'YO!'],
      });
      const operator = streamInference(speller(1), { batch: { minBatchSize: 2 }, metrics: false });
      expectObservable(source.pipe(operator)).toBe('-hi(AyoxB|)', values);
    });
  });

  it('ordered: an element that streams before an earlier one ends waits for it (two batches in flight)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      // 'slow' (4 steps) and 'ab' (2 steps) run at once with concurrent: 2 and batches of one.
      const source = cold('(ab|)', { a: 'slow', b: 'ok' });
      const handler = speller(2);
      const values = events({
        s: [0, 's'],
        l: [0, 'l'],
        o: [0, 'o'],
        w: [0, 'w'],
        A: [0, 'SLOW'],
        p: [1, 'o'],
        k: [1, 'k'],
        B: [1, 'OK'],
      });
      const operator = streamInference(handler, { concurrent: 2, batch: { maxBatchSize: 1 }, metrics: false });
      expectObservable(source.pipe(operator)).toBe('--s-l-o-(wApkB|)', values);
    });
  });

  it('ordered: false delivers events as they come, elements interleaved', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('(ab|)', { a: 'hi', b: 'yo!' });
      const values = events({
        h: [0, 'h'],
        y: [1, 'y'],
        i: [0, 'i'],
        o: [1, 'o'],
        x: [1, '!'],
        A: [0, 'HI'],
        B: [1, 'YO!'],
      });
      expectObservable(
        source.pipe(streamInference(speller(5), { ordered: false, batch: { minBatchSize: 2 }, metrics: false })),
      ).toBe('5ms (hy) 1ms (io) 1ms (xAB|)', values);
    });
  });

  it('a handler that does not stream gives just the end events', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const handler = new FakeModelHandler({ run: (x: string) => x.toUpperCase(), latencyMs: 2 });
      expectObservable(cold('-a-b|').pipe(streamInference(handler, { metrics: false }))).toBe('---A-(B|)', {
        A: end(0, 'A'),
        B: end(1, 'B'),
      });
    });
  });

  it('runInference with a streaming handler ignores the partial outputs', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a------b-|', { a: 'hi', b: 'ok' }).pipe(runInference(speller(1)))).toBe(
        '---A------(B|)',
        {
          A: 'HI',
          B: 'OK',
        },
      );
    });
  });

  it('postprocessing applies to the end result, not to the partial outputs', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const handler = speller(1).withPostprocessFn((x) => `${x}.`);
      expectObservable(cold('-a|', { a: 'hi' }).pipe(streamInference(handler, { metrics: false }))).toBe(
        '--h(iA|)',
        events({ h: [0, 'h'], i: [0, 'i'], A: [0, 'HI.'] }),
      );
    });
  });

  it('unsubscribing aborts the batch in flight (the generation stops) and releases the model', () => {
    const handler = speller(1);
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a: 'streaming' }).pipe(streamInference(handler)), '^--!').toBe(
        '--s',
        events({ s: [0, 's'] }),
      );
    });
    expect(handler.aborts).toBe(1);
    expect(handler.releases).toEqual(['fake-model']);
  });

  it('a failure mid-stream errors the stream after the partial outputs already delivered', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a: '!no' }).pipe(streamInference(speller(1), { metrics: false }))).toBe(
        '--xn(o#)',
        events({ x: [0, '!'], n: [0, 'n'], o: [0, 'o'] }),
        new InferenceError('Inference failed on a batch of 1: cannot say !no', 1),
      );
    });
  });

  describe('under withExceptionHandling', () => {
    it('a failure mid-stream ends each element of the batch with a Left (no bisection), after its partial outputs', () => {
      const seen = collectLabels('(abc|)', { minBatchSize: 3 });
      expect(seen).toEqual([
        '0:h',
        '0:i',
        'L:hi:inference',
        '1:!',
        '1:x',
        'L:!x:inference',
        '2:o',
        '2:k',
        'L:ok:inference',
      ]);
    });

    it('a failure in its own batch is a Left after its partial outputs; the others end normally', () => {
      const seen = collectLabels('-a---b---c|', {});
      expect(seen).toEqual(['0:h', '0:i', 'end 0:HI', '1:!', '1:x', 'L:!x:inference', '2:o', '2:k', 'end 2:OK']);
    });
  });

  it('records time to first output and outputs per second', () => {
    const registry = new MetricsRegistry();
    const scheduler = testScheduler();
    scheduler.run(({ cold, flush }) => {
      cold('-a|', { a: 'abcde' })
        .pipe(streamInference(speller(2), { metrics: registry, scheduler }))
        .subscribe();
      flush();
    });
    const { distributions } = registry.snapshot();
    // Arrived at 1, first output at 3 (one 2 ms step), then one output every 2 ms: 500 per second.
    expect(distributions['RunInference/time_to_first_output_milli_secs']).toMatchObject({ count: 1, min: 2 });
    expect(distributions['RunInference/outputs_per_second']).toMatchObject({ count: 1 });
    expect(distributions['RunInference/outputs_per_second'].min).toBe(500);
  });

  it('a partial output for an element outside the batch fails the batch with a clear error', async () => {
    const handler = modelHandler({
      loadModel: () => 1,
      runInference: (batch: readonly string[]) =>
        new Observable<readonly string[] | ReturnType<typeof partialOutput>>((subscriber) => {
          subscriber.next(partialOutput(5, 'x'));
          subscriber.next(batch);
          subscriber.complete();
        }),
    });
    await expect(lastValueFrom(of('a').pipe(streamInference(handler, { metrics: false })))).rejects.toThrow(
      InferenceError,
    );
    await expect(lastValueFrom(of('a').pipe(streamInference(handler, { metrics: false })))).rejects.toThrow(
      /partial output for element 5 of a batch of 1/,
    );
  });

  it('a Promise-returning handler with partial outputs (the ONNX shape) streams through from()', async () => {
    const handler = modelHandler({
      loadModel: () => 1,
      runInference: (batch: readonly string[]) =>
        new Observable<readonly string[] | ReturnType<typeof partialOutput>>((subscriber) => {
          batch.forEach((x, i) => subscriber.next(partialOutput(i, x.length)));
          queueMicrotask(() => {
            subscriber.next(batch.map((x) => x.toUpperCase()));
            subscriber.complete();
          });
        }),
    });
    const out = await lastValueFrom(of('ab', 'c').pipe(streamInference(handler, { metrics: false }), toArray()));
    expect(out).toEqual([
      { kind: 'partial', index: 0, value: 2 },
      { kind: 'end', index: 0, result: 'AB' },
      { kind: 'partial', index: 1, value: 1 },
      { kind: 'end', index: 1, result: 'C' },
    ]);
  });

  it('FakeModelHandler rejects a stream option that is not a function', () => {
    expect(() => new FakeModelHandler({ run: (x: string) => x, stream: 3 as never })).toThrow(/stream/);
  });
});
