import { from, lastValueFrom, toArray } from 'rxjs';
import { partialOutput, PartialOutput } from '../../src/index';
import { streamingPromise } from '../../src/core/streamingPromise';

describe('streamingPromise', () => {
  it('awaiting gives the results; from() gives the partial outputs (early ones replayed), then the results', async () => {
    let later!: () => void;
    const promise = streamingPromise<string[]>(async (emit) => {
      emit(partialOutput(0, 'a'));
      await new Promise<void>((resolve) => (later = resolve));
      emit(partialOutput(1, 'b'));
      return ['A', 'B'];
    });
    const seen = lastValueFrom(from(promise).pipe(toArray()));
    later();
    expect(await seen).toEqual([new PartialOutput(0, 'a'), new PartialOutput(1, 'b'), ['A', 'B']]);
    await expect(promise).resolves.toEqual(['A', 'B']);
  });

  it('a rejection errors the Observable face too', async () => {
    const promise = streamingPromise<never>(() => Promise.reject(new Error('boom')));
    await expect(lastValueFrom(from(promise))).rejects.toThrow('boom');
    await expect(promise).rejects.toThrow('boom');
  });

  it('partial outputs after the subscriber left are dropped', async () => {
    let emitLater!: () => void;
    const promise = streamingPromise<number[]>(
      (emit) =>
        new Promise((resolve) => {
          emitLater = () => {
            emit(partialOutput(0, 'late'));
            resolve([1]);
          };
        }),
    );
    const seen: unknown[] = [];
    from(promise)
      .subscribe((v) => seen.push(v))
      .unsubscribe();
    emitLater();
    await promise;
    expect(seen).toEqual([]);
  });
});
