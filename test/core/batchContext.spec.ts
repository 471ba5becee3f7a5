import { asapScheduler } from 'rxjs';
import { BatchAbort, batchContext, knownUnaborted } from '../../src/core/batchContext';

describe('batchContext (the engine creates a model call’s AbortSignal only when a handler reads it)', () => {
  it('has the four context fields as own enumerable properties; spreading it carries the signal', () => {
    const context = batchContext({ k: 1 }, 'm', asapScheduler, new BatchAbort());
    expect(Object.keys(context)).toEqual(['inferenceArgs', 'modelId', 'signal', 'scheduler']);
    const copy = { ...context };
    expect(copy.signal).toBeInstanceOf(AbortSignal);
    expect(copy.signal).toBe(context.signal);
    expect(copy).toMatchObject({ inferenceArgs: { k: 1 }, modelId: 'm', scheduler: asapScheduler });
  });

  it('is known unaborted until aborted; the signal then reports the reason, read before or after the abort', () => {
    const before = new BatchAbort();
    const early = batchContext(undefined, '', asapScheduler, before);
    const signal = early.signal;
    expect(knownUnaborted(early)).toBe(true);
    const reason = new Error('timed out');
    before.abort(reason);
    expect(knownUnaborted(early)).toBe(false);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);

    const after = new BatchAbort();
    const late = batchContext(undefined, '', asapScheduler, after);
    after.abort(reason);
    expect(knownUnaborted(late)).toBe(false);
    expect(late.signal.aborted).toBe(true);
    expect(() => late.signal.throwIfAborted()).toThrow(reason);
  });

  it('knows nothing of a context built elsewhere (a direct caller’s): its signal must be read', () => {
    const controller = new AbortController();
    const context = { inferenceArgs: undefined, modelId: '', signal: controller.signal, scheduler: asapScheduler };
    expect(knownUnaborted(context)).toBe(false);
  });
});
