import { InvalidExampleError } from '../../src/core/errors';
import { lineOfFailure } from '../../src/cli/formatDeadLetter';
import type { LineRecord } from '../../src/cli/recordParser';

// Every dead letter names its line, whatever step failed: the line (preprocess), its example (inference), or the
// result holding the example (postprocess — it lost its line before).
describe('lineOfFailure', () => {
  const line: LineRecord = { line: 7, text: '[1,2]' };
  const example = { data: [1, 2] };
  const recordOf = (x: unknown): LineRecord | undefined => (x === example ? line : undefined);
  const error = new InvalidExampleError('bad', 0, undefined);

  it('traces each stage back to the input line', () => {
    expect(lineOfFailure({ stage: 'preprocess', index: 0, element: line, error }, recordOf)).toBe(line);
    expect(lineOfFailure({ stage: 'inference', index: 0, element: example, error }, recordOf)).toBe(line);
    const result = { example, inference: [0.5], modelId: 'm' };
    expect(lineOfFailure({ stage: 'postprocess', index: 0, element: result, error }, recordOf)).toBe(line);
  });

  it('gives undefined (a dead letter with line null) only when nothing leads back', () => {
    expect(lineOfFailure({ stage: 'inference', index: 0, element: { other: 1 }, error }, recordOf)).toBeUndefined();
    expect(lineOfFailure({ stage: 'postprocess', index: 0, element: null, error }, recordOf)).toBeUndefined();
    expect(lineOfFailure({ stage: 'postprocess', index: 0, element: 'x', error }, recordOf)).toBeUndefined();
  });
});
