import { statSync } from 'node:fs';
import { from, lastValueFrom, merge, toArray } from 'rxjs';
import { ModelLoadError, OnnxModelHandler, OnnxWorkerModelHandler, runInference } from 'rxjs-inference';
import { externalDataModel } from '../../../scripts/fixtures/onnx';
import { expectTensorClose, tempModels } from './onnxTestUtils';

describe('a model with external data files (large-model layout), loaded by path', () => {
  const fixture = externalDataModel({ vocab: 64, dim: 32 });
  const files = tempModels({ 'model.onnx': fixture.bytes, [fixture.dataFileName]: fixture.data });
  const alone = tempModels({ 'model.onnx': fixture.bytes });
  afterAll(() => {
    files.cleanup();
    alone.cleanup();
  });
  const elements = fixture.model.sample(6, 8);

  it('the weights are really outside the model file', () => {
    expect(statSync(files.path('model.onnx')).size).toBeLessThan(1024);
    expect(statSync(files.path(fixture.dataFileName)).size).toBeGreaterThanOrEqual(2 * 64 * 32 * 4);
  });

  it.each([
    ['OnnxModelHandler', () => new OnnxModelHandler({ modelUri: files.path('model.onnx') })],
    ['OnnxWorkerModelHandler', () => new OnnxWorkerModelHandler({ modelUri: files.path('model.onnx'), workers: 1 })],
  ])('%s: results equal the reference maths', async (_, make) => {
    const results = await lastValueFrom(
      from(elements.map((e) => e.input_ids)).pipe(runInference(make(), { metrics: false }), toArray()),
    );
    results.forEach((r, i) => expectTensorClose(r.inference as never, fixture.model.forward(elements[i]).logits, 1e-5));
  });

  it('a missing external data file fails the load with a ModelLoadError naming the model', async () => {
    const handler = new OnnxModelHandler({ modelUri: alone.path('model.onnx') });
    const error = await handler.loadModel().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toContain(alone.path('model.onnx'));
  });

  it('two operators naming the same modelIdentifier share one loaded model (one copy of the weights)', async () => {
    const handler = new OnnxModelHandler({ modelUri: files.path('model.onnx') });
    const loads = jest.spyOn(handler, 'loadModel');
    const config = { metrics: false as const, modelIdentifier: 'shared-lm' };
    const ids = elements.map((e) => e.input_ids);
    const both = await lastValueFrom(
      merge(from(ids).pipe(runInference(handler, config)), from(ids).pipe(runInference(handler, config))).pipe(
        toArray(),
      ),
    );
    expect(both).toHaveLength(2 * ids.length);
    expect(loads).toHaveBeenCalledTimes(1);
  });
});
