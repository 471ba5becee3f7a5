import { from, lastValueFrom, toArray } from 'rxjs';
import { TfjsModelHandler, runInference } from '../../../src/index';
import { writeMlpLayersModel } from '../../../scripts/fixtures/tfjs';
import { describeTfjsHandler } from './handlerSuite';
import { expectClose, makeTempDir, recordingLogger, removeDir, single, tf, useBackend, vectors } from './tfjsTestKit';

// TfjsModelHandler on the real wasm backend of @tensorflow/tfjs (one backend per file: it is process-wide).
describeTfjsHandler('wasm');

describe('the benchmark MLP 512 → 1024 → 1024 → 10 on wasm', () => {
  it('matches the plain-JS reference within 1e-5 through runInference and leaks nothing', async () => {
    await useBackend('wasm');
    const dir = await makeTempDir();
    try {
      const mlp = await writeMlpLayersModel(tf, dir);
      const baseline = tf.memory().numTensors;
      const handler = new TfjsModelHandler({
        modelUri: mlp.modelJson,
        modelType: 'layers',
        backend: 'wasm',
        logger: recordingLogger(),
      });
      const xs = vectors(48, 512, 21).map((x) => ({ data: Float32Array.from(x), shape: [512] }));
      const results = await lastValueFrom(from(xs).pipe(runInference(handler, { metrics: false }), toArray()));
      results.forEach((r, i) => {
        expect(single(r.inference).shape).toEqual([10]);
        expectClose(single(r.inference).data, mlp.reference(xs[i]?.data as Float32Array), 1e-5);
      });
      expect(tf.memory().numTensors).toBe(baseline);
    } finally {
      await removeDir(dir);
    }
  });
});
