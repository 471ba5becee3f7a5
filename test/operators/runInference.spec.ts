import { from, Observable, of, Subject, take, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  BufferOverflowError,
  InferenceError,
  MetricsRegistry,
  ModelHandler,
  runInference,
  FakeModelHandler,
} from '../../src/index';
import type { InferenceContext } from '../../src/index';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Beam's test model: adds one, synchronously. */
class AddOneHandler extends ModelHandler<number, number, { inc: number }> {
  loads = 0;
  releases = 0;
  loadModel(): { inc: number } {
    this.loads++;
    return { inc: 1 };
  }
  runInference(
    batch: readonly number[],
    model: { inc: number },
    _context?: InferenceContext,
  ): number[] | Observable<number[]> {
    return batch.map((x) => {
      if (typeof x !== 'number') throw new TypeError(`not a number: ${String(x)}`);
      return x + model.inc;
    });
  }
  override releaseModel(): void {
    this.releases++;
  }
}

function collect<T>(source: Observable<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    source.subscribe({ next: (v) => out.push(v), error: reject, complete: () => resolve(out) });
  });
}

describe('runInference', () => {
  describe('Beam behaviours', () => {
    it('runs x+1 on [1,5,3,10] → [2,6,4,11]', async () => {
      expect(await collect(from([1, 5, 3, 10]).pipe(runInference(new AddOneHandler())))).toEqual([2, 6, 4, 11]);
    });

    it('applies preprocess int(x)*2 → [3,11,7,21]', async () => {
      const handler = new AddOneHandler().withPreprocessFn((x: string) => parseInt(x, 10) * 2);
      expect(await collect(from(['1', '5', '3', '10']).pipe(runInference(handler)))).toEqual([3, 11, 7, 21]);
    });

    it('runs the last added preprocess function first: (int(x)+1)*2+1 → [5,13,9,23]', async () => {
      const handler = new AddOneHandler()
        .withPreprocessFn((x: number) => x * 2)
        .withPreprocessFn((x: string) => parseInt(x, 10) + 1);
      expect(await collect(from(['1', '5', '3', '10']).pipe(runInference(handler)))).toEqual([5, 13, 9, 23]);
    });

    it('runs the first added postprocess function first', async () => {
      const handler = new AddOneHandler()
        .withPostprocessFn((x: number) => x * 2)
        .withPostprocessFn((x: number) => `${x}!`);
      expect(await collect(from([1, 5, 3, 10]).pipe(runInference(handler)))).toEqual(['4!', '12!', '8!', '22!']);
    });

    it('withNoBatching: [[1,5],[3,10]] → [2,6,4,11], one model call per element', async () => {
      const handler = new AddOneHandler();
      const spy = jest.spyOn(handler, 'runInference');
      const results = await collect(
        from([
          [1, 5],
          [3, 10],
        ]).pipe(runInference(handler.withNoBatching())),
      );
      expect(results).toEqual([2, 6, 4, 11]);
      expect(spy.mock.calls.map((c) => c[0])).toEqual([
        [1, 5],
        [3, 10],
      ]);
    });

    it('min=max=10 on 35 elements → batch sizes [10,10,10,5]', async () => {
      const handler = new FakeModelHandler({ run: (x: number) => x });
      const results = await collect(
        from(Array.from({ length: 35 }, (_, i) => i)).pipe(
          runInference(handler, { batch: { minBatchSize: 10, maxBatchSize: 10 }, metrics: false }),
        ),
      );
      expect(results).toHaveLength(35);
      expect(handler.batchSizes).toEqual([10, 10, 10, 5]);
    });
  });

  describe('marble semantics', () => {
    it('emits one result per element after each batch (SPEC example)', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const handler = new FakeModelHandler({ run: (x: string) => x.toUpperCase(), latencyMs: 3 });
        const source = cold('-a-b-c-|');
        expectObservable(source.pipe(runInference(handler, { metrics: false }))).toBe('----A--B--(C|)', {
          A: 'A',
          B: 'B',
          C: 'C',
        });
        expectSubscriptions(source.subscriptions).toBe('^------!');
      });
    });

    it('batches what queued while a batch was in flight, up to the estimator target', () => {
      const handler = new FakeModelHandler({ run: (x: string) => x.toUpperCase(), latencyMs: 5 });
      testScheduler().run(({ cold, expectObservable }) => {
        const source = cold('a(bcd)--|');
        expectObservable(source.pipe(runInference(handler, { metrics: false }))).toBe('-----A----(BC)-(D|)', {
          A: 'A',
          B: 'B',
          C: 'C',
          D: 'D',
        });
      });
      // After one data point Beam's estimator asks for 2: b and c go together, d follows.
      expect(handler.batchSizes).toEqual([1, 2, 1]);
    });

    it('flushes partial work on completion', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const handler = new FakeModelHandler({ run: (x: string) => x, latencyMs: 2 });
        const source = cold('(abc|)');
        expectObservable(
          source.pipe(runInference(handler, { batch: { minBatchSize: 10, maxBatchSize: 10 }, metrics: false })),
        ).toBe('--(abc|)');
      });
    });

    it('forwards a source error, releasing the model first', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const handler = new FakeModelHandler({ run: (x: string) => x, latencyMs: 1 });
        const source = cold('a-#', undefined, new Error('boom'));
        const released: string[] = [];
        const original = handler.releaseModel.bind(handler);
        jest.spyOn(handler, 'releaseModel').mockImplementation((m) => {
          released.push('released');
          original(m);
        });
        expectObservable(source.pipe(runInference(handler, { metrics: false }))).toBe(
          '-a#',
          undefined,
          new Error('boom'),
        );
      });
    });

    it('unsubscribing early aborts the batch in flight and releases the model', () => {
      const scheduler = testScheduler();
      const handler = new FakeModelHandler({ run: (x: string) => x, latencyMs: 10 });
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('a-b-c-d-e-|');
        expectObservable(source.pipe(runInference(handler, { metrics: false })), '^----!').toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^----!');
      });
      expect(handler.aborts).toBe(1);
      expect(handler.loads).toEqual(['fake-model']);
      expect(handler.releases).toEqual(['fake-model']);
    });

    it('stops a synchronous infinite source when cut by take', () => {
      const handler = new FakeModelHandler({ run: (x: number) => x * 2 });
      let produced = 0;
      const infinite = new Observable<number>((subscriber) => {
        for (let i = 0; !subscriber.closed; i++) {
          produced++;
          subscriber.next(i);
        }
      });
      const results: number[] = [];
      infinite.pipe(runInference(handler, { metrics: false }), take(5)).subscribe((v) => results.push(v));
      expect(results).toEqual([0, 2, 4, 6, 8]);
      expect(produced).toBeLessThan(50);
      expect(handler.releases).toEqual(['fake-model']);
    });

    it('keeps input order with concurrent: 3 and random latencies', () => {
      let seed = 7;
      const random = (): number => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      };
      const latencies: number[] = [];
      const handler = new FakeModelHandler({
        run: (x: string) => x,
        latencyMs: () => {
          const l = 1 + Math.floor(random() * 9);
          latencies.push(l);
          return l;
        },
      });
      const ordered: string[] = [];
      const unordered: string[] = [];
      testScheduler().run(({ cold }) => {
        const source = cold('abcdefghijklmnopqrst|');
        source.pipe(runInference(handler, { concurrent: 3, metrics: false })).subscribe((v) => ordered.push(v));
        source
          .pipe(runInference(handler, { concurrent: 3, metrics: false, ordered: false }))
          .subscribe((v) => unordered.push(v));
      });
      const letters = 'abcdefghijklmnopqrst'.split('');
      expect(ordered).toEqual(letters);
      expect([...unordered].sort()).toEqual(letters);
      // The latencies really were out of order, so ordering was the operator's doing.
      expect(unordered).not.toEqual(letters);
      expect(new Set(latencies).size).toBeGreaterThan(3);
    });
  });

  describe('model lifecycle', () => {
    it('loads lazily at subscription and releases on completion, before complete is delivered', async () => {
      const handler = new AddOneHandler();
      const op = runInference(handler);
      expect(handler.loads).toBe(0);
      const events: string[] = [];
      const original = handler.releaseModel.bind(handler);
      handler.releaseModel = () => {
        events.push('release');
        original();
      };
      await new Promise<void>((resolve) =>
        of(1)
          .pipe(op)
          .subscribe({ next: () => events.push('next'), complete: () => (events.push('complete'), resolve()) }),
      );
      expect(events).toEqual(['next', 'release', 'complete']);
      expect(handler.loads).toBe(1);
    });

    it('shares one load between operators naming the same modelIdentifier', async () => {
      const handler = new FakeModelHandler({ run: (x: number) => x, latencyMs: 0 });
      const a = new Subject<number>();
      const b = new Subject<number>();
      const outA: number[] = [];
      const outB: number[] = [];
      const subA = a
        .pipe(runInference(handler, { modelIdentifier: 'shared-add', metrics: false }))
        .subscribe((v) => outA.push(v));
      const subB = b
        .pipe(runInference(handler, { modelIdentifier: 'shared-add', metrics: false }))
        .subscribe((v) => outB.push(v));
      a.next(1);
      b.next(2);
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
      expect(outA).toEqual([1]);
      expect(outB).toEqual([2]);
      expect(handler.loads).toEqual(['fake-model']);
      subA.unsubscribe();
      expect(handler.releases).toEqual([]);
      subB.unsubscribe();
      expect(handler.releases).toEqual(['fake-model']);
    });

    it('passes inferenceArgs and validates them at construction', () => {
      expect(() => runInference(new AddOneHandler(), { inferenceArgs: { k: 1 } })).toThrow(TypeError);
      class WithArgs extends AddOneHandler {
        seen: unknown;
        override validateInferenceArgs(): void {}
        override runInference(batch: readonly number[], model: { inc: number }, context: InferenceContext): number[] {
          this.seen = context.inferenceArgs;
          return super.runInference(batch, model) as number[];
        }
      }
      const handler = new WithArgs();
      of(1)
        .pipe(runInference(handler, { inferenceArgs: { k: 1 } }))
        .subscribe();
      expect(handler.seen).toEqual({ k: 1 });
    });

    it('fires the AbortSignal of an in-flight batch on unsubscribe', () => {
      let signal: AbortSignal | undefined;
      class Slow extends AddOneHandler {
        override runInference(
          _batch: readonly number[],
          _m: { inc: number },
          context: InferenceContext,
        ): Observable<number[]> {
          signal = context.signal;
          return new Observable<number[]>(() => undefined);
        }
      }
      const sub = of(1).pipe(runInference(new Slow())).subscribe();
      expect(signal?.aborted).toBe(false);
      sub.unsubscribe();
      expect(signal?.aborted).toBe(true);
    });

    it('fails a batch whose handler returns the wrong number of results, naming both counts', async () => {
      const bad = new (class extends AddOneHandler {
        override runInference(batch: readonly number[]): number[] {
          return batch.slice(1);
        }
      })();
      await expect(
        collect(from([1, 2, 3]).pipe(runInference(bad, { batch: { minBatchSize: 3, maxBatchSize: 3 } }))),
      ).rejects.toThrow(/returned 2 results for a batch of 3/);
      await expect(collect(from([1]).pipe(runInference(bad)))).rejects.toBeInstanceOf(InferenceError);
    });

    it('errors with a BufferOverflowError past maxBufferedElements', async () => {
      const handler = new FakeModelHandler({ run: (x: number) => x, latencyMs: 5, scheduler: undefined });
      const error = await collect(
        from([1, 2, 3, 4, 5]).pipe(runInference(handler, { maxBufferedElements: 2, metrics: false })),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BufferOverflowError);
      expect((error as Error).message).toMatch(/maxBufferedElements/);
    });

    it('records metrics with Beam names', async () => {
      const registry = new MetricsRegistry();
      await collect(from([1, 2, 3]).pipe(runInference(new AddOneHandler(), { metrics: registry })));
      const snapshot = JSON.stringify(registry.snapshot());
      expect(snapshot).toMatch(/num_inferences/);
      expect(snapshot).toMatch(/inference_batch_latency_micro_secs/);
    });

    it('errors when the model cannot be loaded', async () => {
      const handler = new FakeModelHandler({ run: (x: number) => x, failLoad: () => true });
      await expect(collect(of(1).pipe(runInference(handler, { metrics: false })))).rejects.toThrow(
        /Failed to load model 'fake-model'/,
      );
      await expect(
        collect(throwError(() => new Error('x')).pipe(runInference(handler, { metrics: false }))),
      ).rejects.toThrow();
    });
  });

  describe('config validation', () => {
    const handler = new AddOneHandler();
    it.each([
      [{ concurrent: 0 }, 'RangeError', /concurrent/],
      [{ concurrent: 1.5 }, 'RangeError', /concurrent/],
      [{ maxBufferedElements: -1 }, 'RangeError', /maxBufferedElements/],
      [{ ordered: 'yes' }, 'TypeError', /ordered/],
      [{ timeoutMs: 0 }, 'RangeError', /timeoutMs/],
      [{ scheduler: {} }, 'TypeError', /scheduler/],
      [{ batch: { maxBatchSize: 0 } }, 'RangeError', /maxBatchSize/],
    ])('rejects %p', (config, name, message) => {
      expect(() => runInference(handler, config as never)).toThrow(
        expect.objectContaining({ name, message: expect.stringMatching(message) }),
      );
    });
    it('rejects a non-handler', () => {
      expect(() => runInference({} as never)).toThrow(/Expected `handler` to be a ModelHandler/);
    });
  });
});
