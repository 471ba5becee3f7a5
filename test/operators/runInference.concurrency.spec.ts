import { TestScheduler } from 'rxjs/testing';
import {
  FakeModelHandler,
  KeyedModelHandler,
  MaybeKeyedModelHandler,
  ModelHandler,
  runInference,
} from '../../src/index';

/** A fake model that asks for `batches` in flight by default (as `OnnxWorkerModelHandler` does: two per worker). */
class PipelinedFake<In, Out> extends FakeModelHandler<In, Out> {
  constructor(
    private readonly inFlight: number,
    run: (x: In) => Out,
  ) {
    super({ run, latencyMs: 5 });
  }
  override concurrency(): number {
    return this.inFlight;
  }
}

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe("runInference: the handler's concurrency() is the default `concurrent`", () => {
  const upper = (x: string) => x.toUpperCase();

  it('keeps as many batches in flight as the handler asks for when the config gives none', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const handler = new PipelinedFake(3, upper);
      const source = cold('(abcdef|)');
      // Batches of one, 5 ms each: three run at once, then the next three.
      expectObservable(source.pipe(runInference(handler, { metrics: false, batch: { maxBatchSize: 1 } }))).toBe(
        '-----(ABC)(DEF|)',
      );
    });
  });

  it('a `concurrent` in the config wins over the handler’s', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const handler = new PipelinedFake(3, upper);
      const source = cold('(abc|)');
      expectObservable(
        source.pipe(runInference(handler, { metrics: false, concurrent: 1, batch: { maxBatchSize: 1 } })),
      ).toBe('-----A----B----(C|)');
    });
  });

  it('is 1 for a plain handler; decorated and keyed handlers pass their handler’s on', () => {
    const plain = new FakeModelHandler({ run: upper });
    expect(plain.concurrency()).toBe(1);
    const pipelined = new PipelinedFake(4, upper);
    expect(pipelined.withPreprocessFn((x: string) => x).concurrency()).toBe(4);
    expect(pipelined.withPostprocessFn((x: string) => x).concurrency()).toBe(4);
    expect(new KeyedModelHandler(pipelined).concurrency()).toBe(4);
    expect(new MaybeKeyedModelHandler(new KeyedModelHandler(pipelined)).concurrency()).toBe(4);
    // A model per key group: the most any group asks for (a batch runs on one group's model).
    const groups = new KeyedModelHandler([
      { keys: ['a'], handler: plain },
      { keys: ['b'], handler: new PipelinedFake(6, upper) },
    ]);
    expect(groups.concurrency()).toBe(6);
    expect(ModelHandler.prototype.concurrency.call(plain)).toBe(1);
  });
});
