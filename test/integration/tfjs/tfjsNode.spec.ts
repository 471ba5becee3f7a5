// The native `tensorflow` backend, exercised where @tensorflow/tfjs-node is installed (it cannot be installed on a
// machine that reaches only the npm registry: its install downloads libtensorflow). Elsewhere the suite is reported
// as skipped, with the reason in its name.
import { TfjsModelHandler } from '../../../src/index';
import { writeMultiOutputLayersModel, writeSmallLayersModel } from '../../../scripts/fixtures/tfjs';
import type { TfjsOutput } from '../../../src/index';
import { expectClose, makeTempDir, recordingLogger, removeDir, runBatch, single, vectors } from './tfjsTestKit';

function resolves(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

const nodeInstalled = resolves('@tensorflow/tfjs-node');
const describeIfNode = nodeInstalled ? describe : describe.skip;
const title = nodeInstalled
  ? 'TfjsModelHandler on the tensorflow backend (@tensorflow/tfjs-node)'
  : 'TfjsModelHandler on the tensorflow backend (SKIPPED: @tensorflow/tfjs-node is not installed)';

describeIfNode(title, () => {
  it('matches the reference, splits multi-output models and leaks no tensor', async () => {
    const packageName = '@tensorflow/tfjs-node'; // not a literal: the package has no types where it is absent
    const tf = (await import(packageName)) as typeof import('@tensorflow/tfjs');
    const dir = await makeTempDir();
    try {
      const small = await writeSmallLayersModel(tf, `${dir}/small`);
      const multi = await writeMultiOutputLayersModel(tf, `${dir}/multi`);
      const baseline = tf.memory().numTensors;
      const logger = recordingLogger();
      const handler = new TfjsModelHandler({
        modelUri: small.modelJson,
        modelType: 'layers',
        backend: 'tensorflow',
        logger,
      });
      const model = await handler.loadModel();
      expect(model.backend).toBe('tensorflow');
      expect(logger.info.mock.calls[0]?.[0]).toMatch(/'tensorflow' backend \(@tensorflow\/tfjs-node(-gpu)?\)/);
      const xs = vectors(6, 4);
      const loaded = tf.memory().numTensors;
      const results = await runBatch(handler, model, xs);
      results.forEach((r, i) => expectClose(single(r.inference).data, small.reference(xs[i] as number[])));
      expect(tf.memory().numTensors).toBe(loaded);
      handler.releaseModel(model);

      const multiHandler = new TfjsModelHandler({
        modelUri: multi.modelJson,
        modelType: 'layers',
        backend: 'tensorflow',
        logger,
      });
      const multiModel = await multiHandler.loadModel();
      const multiResults = await runBatch(multiHandler, multiModel, xs);
      multiResults.forEach((r, i) => {
        const record = r.inference as Record<string, TfjsOutput>;
        expectClose(record.score?.data as Float32Array, multi.reference(xs[i] as number[]).score);
      });
      multiHandler.releaseModel(multiModel);
      expect(tf.memory().numTensors).toBe(baseline);
    } finally {
      await removeDir(dir);
    }
  });
});
