import { isLeft } from 'fp-ts/lib/Either.js';
import { from, lastValueFrom, toArray } from 'rxjs';
import { mlp } from '../../scripts/fixtures/onnx';
import { InvalidExampleError } from '../../src/core/errors';
import { namedInStream } from '../../src/engine/streamPosition';
import { OnnxModelHandler } from '../../src/handlers/index';
import { modelHandler } from '../../src/models/custom/modelHandlerFactory';
import { runInference, withExceptionHandling } from '../../src/operators/index';

/** The failures of a run: [stream position, error message, error.streamPosition]. */
async function failures(elements: unknown[], operator: ReturnType<typeof runInference>, bisect?: boolean) {
  const out = await lastValueFrom(
    from(elements).pipe(withExceptionHandling(operator, bisect === undefined ? {} : { bisect }), toArray()),
  );
  return out.flatMap((r, seq) =>
    isLeft(r) ? [[seq, r.left.error.message, (r.left.error as InvalidExampleError).streamPosition] as const] : [],
  );
}

// Handlers name a bad element by its position in the batch they were given ("Element 0 of the batch" — always 0
// after bisection); the engine knows where that batch sits in the stream and names the element there (#13 item 11).
describe('an element named by its position in the stream, not in its batch', () => {
  const fixture = mlp([4, 3], { seed: 1 });
  const good = () => new Float32Array(4);

  it('ONNX: after bisection each bad element names its own stream position, and its error carries it', async () => {
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
    const elements = [good(), good(), new Float32Array(3), good(), good(), Float32Array.of(0, NaN, 0, 0), good()];
    const operator = runInference(handler, { metrics: false, batch: { minBatchSize: 7 } });
    expect(await failures(elements, operator)).toEqual([
      [2, expect.stringMatching(/^Element #2 of the stream, input `input`: expected dims \[4\]/), 2],
      [5, expect.stringMatching(/^Element #5 of the stream, input `input`: expected a finite number, got `NaN`/), 5],
    ]);
  });

  it('without bisection every element of the batch fails with the error naming the bad one', async () => {
    const handler = new OnnxModelHandler({ modelUri: fixture.bytes });
    const operator = runInference(handler, { metrics: false, batch: { minBatchSize: 3 } });
    // Same dims (the ONNX handler batches by dims): a NaN makes the whole batch fail.
    const found = await failures([good(), good(), Float32Array.of(NaN, 0, 0, 0)], operator, false);
    expect(found.map(([seq, , at]) => [seq, at])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
    expect(found[0][1]).toMatch(/^Element #2 of the stream, input `input`/);
  });

  it('other wordings: "Example N" and "element N" are replaced, a message without one is prefixed', async () => {
    const check = (word: string) =>
      modelHandler({
        loadModel: () => 'model',
        runInference: (batch: readonly unknown[]) =>
          batch.map((x, i) => {
            if (x === 'bad') throw new InvalidExampleError(word.replace('N', String(i)), i, 'f');
            return x;
          }),
      });
    const run = (word: string) =>
      failures(['a', 'b', 'c', 'bad', 'd'], runInference(check(word), { metrics: false, batch: { minBatchSize: 5 } }));
    expect(await run('Example N: input `f` is missing.')).toEqual([
      [3, 'Element #3 of the stream: input `f` is missing.', 3],
    ]);
    expect(await run('Expected element N to be a pair.')).toEqual([
      [3, 'Expected element #3 of the stream to be a pair.', 3],
    ]);
    expect(await run('Input `f` is not a number.')).toEqual([
      [3, 'Element #3 of the stream: Input `f` is not a number.', 3],
    ]);
  });

  it('leaves other errors, positions outside the part and hostile thrown values as they are', () => {
    const plain = new Error('x');
    expect(namedInStream(plain, [5, 6], 0, 2)).toBe(plain);
    const outside = new InvalidExampleError('Element 4 of the batch', 4, undefined);
    expect(namedInStream(outside, [5, 6], 0, 2)).toBe(outside);
    const unknown = new InvalidExampleError('no position', undefined, undefined);
    expect(namedInStream(unknown, [5, 6], 0, 2)).toBe(unknown);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(namedInStream(proxy, [5], 0, 1)).toBe(proxy);
    // A part [lo, hi) of a bisected batch: batch position 1 of the part is the batch's element lo + 1.
    const named = namedInStream(
      new InvalidExampleError('Element 1 of the batch, input `a`: bad.', 1, 'a'),
      [10, 11, 12, 13],
      2,
      4,
    );
    expect(named).toMatchObject({
      message: 'Element #13 of the stream, input `a`: bad.',
      position: 1,
      field: 'a',
      streamPosition: 13,
    });
  });
});
