import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { Subscriber } from 'rxjs';
import { Emitter, Many } from '../../src/engine/Emitter';
import { failure } from '../../src/engine/Failed';

describe('Emitter', () => {
  const collect = () => {
    const out: unknown[] = [];
    const subscriber = new Subscriber<unknown>({
      next: (v) => out.push(v),
      error: () => undefined,
      complete: () => undefined,
    });
    return { out, subscriber };
  };

  it('ordered: a batch part goes straight out when its turn has come, and releases what waited for it', () => {
    const { out, subscriber } = collect();
    const emitter = new Emitter('throw', true, subscriber, () => undefined);
    emitter.settle(3, 'd');
    // Elements 0..2 arrive as part [1, 4) of a batch whose sequence numbers are 9, 0, 1, 2.
    emitter.settleOutputs([9, 0, 1, 2], 1, 4, ['a', 'b', 'c']);
    expect(out).toEqual(['a', 'b', 'c', 'd']);
    expect(emitter.waiting).toBe(0);
  });

  it('ordered: an out-of-order part waits for the elements before it', () => {
    const { out, subscriber } = collect();
    const emitter = new Emitter('throw', true, subscriber, () => undefined);
    emitter.settleOutputs([2, 3], 0, 2, ['c', 'd']);
    expect(out).toEqual([]);
    expect(emitter.waiting).toBe(2);
    emitter.settle(0, new Many(['a1', 'a2']));
    emitter.settle(1, 'b');
    expect(out).toEqual(['a1', 'a2', 'b', 'c', 'd']);
  });

  it("'either' wraps outputs as Right and failures as Left; 'throw' hands a failure to fail at its turn", () => {
    const either = collect();
    new Emitter('either', false, either.subscriber, () => undefined).settle(0, failure('inference', 0, 'x', 'boom'));
    expect(isLeft(either.out[0] as never)).toBe(true);
    new Emitter('either', false, either.subscriber, () => undefined).settleOutputs([0], 0, 1, ['y']);
    expect(isRight(either.out[1] as never)).toBe(true);
    const plain = collect();
    const errors: Error[] = [];
    const emitter = new Emitter('throw', true, plain.subscriber, (e) => errors.push(e));
    emitter.settle(1, failure('inference', 0, 'x', new Error('boom')));
    expect(errors).toEqual([]);
    emitter.settle(0, 'first');
    expect(plain.out).toEqual(['first']);
    expect(errors.map((e) => e.message)).toEqual(['Inference failed on a batch of 1: boom']);
  });
});
