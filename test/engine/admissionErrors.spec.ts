import { BufferOverflowError, InvalidExampleError } from '../../src/index';
import { notABatchError, overflowError } from '../../src/engine/admissionErrors';

describe('admission errors', () => {
  it('overflow names the element, the limit and what to do', () => {
    const error = overflowError(7, 100);
    expect(error).toBeInstanceOf(BufferOverflowError);
    expect(error.message).toBe(
      'runInference queued 100 elements (maxBufferedElements) while the model was busy or loading; element 7 does ' +
        'not fit. Raise maxBufferedElements, or slow the source down.',
    );
  });

  it('withNoBatching: a non-empty array passes; an empty one or a non-array is named', () => {
    expect(notABatchError(0, [1])).toBeUndefined();
    expect(notABatchError(3, [])).toBeInstanceOf(InvalidExampleError);
    expect(notABatchError(3, [])?.message).toBe(
      'Element 3 is an empty batch; with withNoBatching() every element must be a non-empty array of examples.',
    );
    expect(notABatchError(4, 'x')?.message).toMatch(/^Element 4 is not a batch: .*x/);
  });
});
