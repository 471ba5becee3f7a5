import { of } from 'rxjs';
import {
  batchElements,
  KeyedModelHandler,
  modelHandler,
  OnnxModelHandler,
  OnnxWorkerModelHandler,
  RemoteModelHandler,
  runInference,
  TfjsModelHandler,
} from 'rxjs-inference';
import { FakeModelHandler } from 'rxjs-inference/testing';

// From JavaScript the compiler does not see a misspelt option, which would otherwise be ignored without a word
// (issue 16): each config is checked against its known keys when the operator or handler is created.
const handler = modelHandler({ runInference: (batch: readonly number[]) => [...batch] });
const unknown = (key: string, what: string, nearest?: string): RegExp =>
  new RegExp(
    `^Unknown option \`${key}\` in ${what}${nearest === undefined ? '' : ` \\(did you mean \`${nearest}\`\\?\\)`}; known options: `,
  );

describe('misspelt config keys are a TypeError naming the key, the nearest known one and all known ones', () => {
  it.each([
    [
      'runInference',
      () => runInference(handler, { concurent: 2 } as never),
      unknown('concurent', 'the runInference config', 'concurrent'),
    ],
    [
      'runInference batch',
      () => runInference(handler, { batch: { maxBatchSzie: 4 } } as never),
      unknown('maxBatchSzie', 'the batch config', 'maxBatchSize'),
    ],
    [
      'batchElements',
      () => batchElements({ minBatchsize: 2 } as never),
      unknown('minBatchsize', 'the batch config', 'minBatchSize'),
    ],
    [
      'OnnxModelHandler',
      () => new OnnxModelHandler({ modelUri: 'm.onnx', devise: 'cpu' } as never),
      unknown('devise', 'the OnnxModelHandler config', 'device'),
    ],
    [
      'OnnxWorkerModelHandler',
      () => new OnnxWorkerModelHandler({ modelUri: 'm.onnx', worker: 2 } as never),
      unknown('worker', 'the OnnxWorkerModelHandler config', 'workers'),
    ],
    [
      'TfjsModelHandler',
      () => new TfjsModelHandler({ modelUri: 'm.json', modelType: 'layers', backed: 'cpu' } as never),
      unknown('backed', 'the TfjsModelHandler config', 'backend'),
    ],
    [
      'RemoteModelHandler',
      () => new RemoteModelHandler({ request: () => [], retries: 3 } as never),
      unknown('retries', 'the RemoteModelHandler config', 'retry'),
    ],
    [
      'modelHandler',
      () => modelHandler({ runInference: () => [], loadmodel: () => 1 } as never),
      unknown('loadmodel', 'the modelHandler config', 'loadModel'),
    ],
    [
      'FakeModelHandler',
      () => new FakeModelHandler({ run: (x: number) => x, latency: 3 } as never),
      unknown('latency', 'the FakeModelHandler config', 'latencyMs'),
    ],
    [
      'KeyedModelHandler',
      () => new KeyedModelHandler([{ keys: ['a'], handler }], { maxModels: 2 } as never),
      unknown('maxModels', 'the KeyedModelHandler config', 'maxModelsInMemory'),
    ],
  ])('%s', (_, create, message) => {
    expect(create).toThrow(TypeError);
    expect(create).toThrow(message);
  });

  it('lists every known key, and gives no guess when nothing is close', () => {
    expect(() => runInference(handler, { zzzzzzzz: 1 } as never)).toThrow(
      new TypeError(
        'Unknown option `zzzzzzzz` in the runInference config; known options: ordered, concurrent, maxBufferedElements, ' +
          'batch, scheduler, modelMetadata, modelIdentifier, inferenceArgs, timeoutMs, onModelLoadError, onModelLoad, ' +
          'metrics, elementSignal, tracer.',
      ),
    );
  });

  it('the worker handler still accepts `workers`, and every documented option passes', () => {
    expect(() => new OnnxWorkerModelHandler({ modelUri: 'm.onnx', workers: 2, device: 'cpu' })).not.toThrow();
    expect(() =>
      of(1).pipe(runInference(handler, { ordered: true, concurrent: 2, batch: { maxBatchSize: 4 }, metrics: false })),
    ).not.toThrow();
  });
});

describe('KeyedModelHandler typing (issue 16)', () => {
  it('new KeyedModelHandler<K, E, R>(handler) compiles for the single-handler form and keys the results', async () => {
    const inner = new FakeModelHandler({ run: (x: number) => x * 2 });
    const keyed = new KeyedModelHandler<string, number, number>(inner);
    const results: (readonly [string, number])[] = [];
    of(['a', 1] as const, ['b', 2] as const)
      .pipe(runInference(keyed, { metrics: false }))
      .subscribe((r) => results.push(r));
    expect(results).toEqual([
      ['a', 2],
      ['b', 4],
    ]);
  });
});
