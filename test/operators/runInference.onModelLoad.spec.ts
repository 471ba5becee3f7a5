import { BehaviorSubject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { runInference, type ModelMetadata } from 'rxjs-inference';
import { FakeModelHandler } from 'rxjs-inference/testing';

describe('runInference onModelLoad', () => {
  it('is called once the model has loaded, and again for each refresh, with the model id', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, flush }) => {
      const handler = new FakeModelHandler({ run: (x: string) => x, loadLatencyMs: 4, scheduler });
      const loaded: [string, number][] = [];
      const metadata = new BehaviorSubject<ModelMetadata>({ modelId: 'm1', modelName: 'm1' });
      scheduler.schedule(() => metadata.next({ modelId: 'm2', modelName: 'm2' }), 10);
      cold('a-------------------|')
        .pipe(
          runInference(handler, {
            scheduler,
            modelMetadata: metadata,
            onModelLoad: (id) => loaded.push([id, scheduler.now()]),
          }),
        )
        .subscribe();
      flush();
      expect(loaded).toEqual([
        ['m1', 4],
        ['m2', 14],
      ]);
    });
  });

  it('a throwing callback errors the stream instead of the process', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      const handler = new FakeModelHandler({ run: (x: string) => x });
      const boom = new Error('callback bug');
      const result = cold('a|').pipe(
        runInference(handler, {
          scheduler,
          onModelLoad: () => {
            throw boom;
          },
        }),
      );
      expectObservable(result).toBe('#', undefined, boom);
    });
  });

  it('rejects a non-function onModelLoad', () => {
    const handler = new FakeModelHandler({ run: (x: string) => x });
    expect(() => runInference(handler, { onModelLoad: 'x' as never })).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/onModelLoad/) }),
    );
  });
});
