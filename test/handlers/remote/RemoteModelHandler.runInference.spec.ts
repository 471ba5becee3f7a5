import { left, right } from 'fp-ts/lib/Either';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { HttpError, RemoteModelHandler, runInference, withExceptionHandling } from '../../../src/index';

// The handler waits on the operator's scheduler (none configured on the handler): whole pipelines run in virtual time.
describe('RemoteModelHandler through runInference (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => (scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))));

  it('retries inside the operator: the doc-comment diagram', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('   -a|');
      const failing = cold<string[]>('  --#', undefined, new HttpError(503));
      const answer = cold('          --(x|)', { x: ['A'] });
      const expected = '     ----------(r|)';
      const handler = new RemoteModelHandler<string, string>({
        request: (_batch, { attempt }) => (attempt === 1 ? failing : answer),
        retry: { initialDelayMs: 10 },
        throttle: false,
        random: () => 0.5,
      });
      expectObservable(source.pipe(runInference(handler, { scheduler, metrics: false }))).toBe(expected, {
        r: { example: 'a', inference: 'A', modelId: '' },
      });
      // Sent at 1, fails at 3, waits 0.5·10 = 5, sent again at 8, answered at 10.
      expectSubscriptions(failing.subscriptions).toBe('-^-!');
      expectSubscriptions(answer.subscriptions).toBe('--------^-!');
    });
  });

  it('caps requests across two operators sharing one handler', () => {
    const sends: string[] = [];
    scheduler.run(({ cold, hot, expectObservable }) => {
      const handler = new RemoteModelHandler<string, string>({
        request: (batch) => {
          sends.push(`${batch.join('')}@${scheduler.now()}`);
          return cold('---(x|)', { x: batch.map((s) => s.toUpperCase()) });
        },
        maxConcurrentRequests: 1,
        throttle: false,
      });
      const texts = (r: { inference: string }) => r.inference;
      expectObservable(hot('a|').pipe(runInference(handler, { scheduler, metrics: false }), map(texts))).toBe(
        '---(A|)',
      );
      expectObservable(hot('b|').pipe(runInference(handler, { scheduler, metrics: false }), map(texts))).toBe(
        '------(B|)',
      );
    });
    expect(sends).toEqual(['a@0', 'b@3']);
  });

  it('turns a final failure into dead letters for each element of the batch, on time', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const bad = new HttpError(400, 'bad input');
      const handler = new RemoteModelHandler<string, string>({
        request: (batch) => (batch.includes('x') ? cold('--#', undefined, bad) : cold('--(r|)', { r: batch })),
        throttle: false,
      });
      const stage = runInference(handler, {
        scheduler,
        metrics: false,
        batch: { batchKeyFn: (s: string) => s === 'x' },
      });
      const result = hot('a--x|').pipe(
        withExceptionHandling(stage),
        map((e) =>
          e._tag === 'Left' ? left(`${e.left.stage}:${e.left.element}:${(e.left.error as HttpError).message}`) : e,
        ),
      );
      expectObservable(result).toBe('--a--(x|)', {
        a: right({ example: 'a', inference: 'a', modelId: '' }),
        x: left('inference:x:Remote model request failed after 1 attempt (HTTP 400): bad input'),
      });
    });
  });
});
