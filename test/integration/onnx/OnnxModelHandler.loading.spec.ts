import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import { ModelLoadError, OnnxModelHandler } from '../../../src/index';
import { corruptModel, mlp, noInputs } from '../../../scripts/fixtures/onnx';
import { context, expectTensorClose, rejection, tempModels } from './onnxTestUtils';

const ROOT = resolve(__dirname, '../../..');
const small = mlp([8, 16, 4]);

/**
 * Whether onnxruntime-node can really create a session on the CUDA execution provider here: a real probe in a child
 * process (synchronous, so that it can choose between `describe` and `describe.skip` at collection time).
 */
function cudaAvailable(): boolean {
  const files = tempModels({ 'probe.onnx': small.bytes });
  try {
    const probe = spawnSync(
      process.execPath,
      [
        '-e',
        `require('onnxruntime-node').InferenceSession.create(${JSON.stringify(files.path('probe.onnx'))}, ` +
          `{ executionProviders: ['cuda'] }).then(() => process.exit(0), () => process.exit(1));`,
      ],
      { cwd: ROOT, stdio: 'ignore', timeout: 60_000 },
    );
    return probe.status === 0;
  } finally {
    files.cleanup();
  }
}
const CUDA = cudaAvailable();

describe('OnnxModelHandler: loading failures are ModelLoadErrors naming the model and the cause', () => {
  const files = tempModels({ 'corrupt.onnx': corruptModel(), 'no-inputs.onnx': noInputs() });
  afterAll(() => files.cleanup());

  it('a missing file', async () => {
    const path = files.path('missing.onnx');
    const error = await rejection(new OnnxModelHandler({ modelUri: path }).loadModel());
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error).toMatchObject({
      modelId: path,
      message: `Cannot load ONNX model \`${path}\`: the file does not exist.`,
    });
  });

  it('a directory', async () => {
    const error = await rejection(new OnnxModelHandler({ modelUri: files.dir }).loadModel());
    expect(error).toMatchObject({ name: 'ModelLoadError', message: expect.stringMatching(/it is not a file/) });
  });

  it('a corrupt file', async () => {
    const path = files.path('corrupt.onnx');
    const error = await rejection(new OnnxModelHandler({ modelUri: path }).loadModel());
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(error.message).toMatch(new RegExp(`^Cannot load ONNX model \`${path}\`: .*protobuf parsing failed`, 'i'));
    expect((error as ModelLoadError).modelId).toBe(path);
    expect(error.cause).toBeDefined();
  });

  it('corrupt bytes', async () => {
    const error = await rejection(new OnnxModelHandler({ modelUri: corruptModel() }).loadModel());
    expect(error).toMatchObject({ name: 'ModelLoadError', modelId: '' });
    expect(error.message).toMatch(/^Cannot load ONNX model `<256 bytes>`: .*protobuf parsing failed/);
  });

  it('a side-input path that does not exist, with valid default bytes', async () => {
    const error = await rejection(new OnnxModelHandler({ modelUri: small.bytes }).loadModel('/nowhere/model-v2.onnx'));
    expect(error).toMatchObject({ name: 'ModelLoadError', modelId: '/nowhere/model-v2.onnx' });
  });

  it('a model with no inputs (and its session is released)', async () => {
    const path = files.path('no-inputs.onnx');
    const error = await rejection(new OnnxModelHandler({ modelUri: path }).loadModel());
    expect(error).toMatchObject({
      name: 'ModelLoadError',
      message: `ONNX model \`${path}\` has no inputs: there is nothing to feed the examples to.`,
    });
  });

  it('an outputNames entry the model does not have', async () => {
    const handler = new OnnxModelHandler({ modelUri: small.bytes, outputNames: ['output', 'logits'] });
    const error = await rejection(handler.loadModel());
    expect(error).toMatchObject({ name: 'ModelLoadError' });
    expect(error.message).toMatch(/has no output `logits` \(its outputs: `output`\)/);
  });
});

describe('OnnxModelHandler: onnxruntime-node is loaded lazily', () => {
  it('importing the entry points does not load onnxruntime-node; the first loadModel does', () => {
    // A fresh Node process (jest's own module registry would hide what Node really loads).
    const script = `
      const loaded = () => Object.keys(require.cache).some((k) => k.includes('onnxruntime-node'));
      require('./src/index.ts');
      require('./src/handlers/index.ts');
      const { OnnxModelHandler } = require('./src/handlers/onnx/OnnxModelHandler.ts');
      const before = loaded();
      const bytes = require('./scripts/fixtures/onnx').mlp([2, 2]).bytes;
      new OnnxModelHandler({ modelUri: bytes }).loadModel().then((m) => {
        console.log(JSON.stringify({ before, after: loaded(), inputs: m.session.inputNames }));
        return m.session.release();
      });`;
    const child = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.stderr).not.toMatch(/Error/);
    expect(JSON.parse(child.stdout.trim().split('\n').pop()!)).toEqual({
      before: false,
      after: true,
      inputs: ['input'],
    });
  }, 90_000);
});

describe("OnnxModelHandler: device 'gpu'", () => {
  // The fallback to the CPU (no CUDA, no WebGPU adapter) and the WebGPU path: test/integration/webgpu/.
  it("a corrupt model on gpu is still a ModelLoadError (the CPU's), with no fallback warning", async () => {
    const onWarning = jest.fn();
    const error = await rejection(
      new OnnxModelHandler({ modelUri: corruptModel(), device: 'gpu', onWarning }).loadModel(),
    );
    expect(error).toMatchObject({
      name: 'ModelLoadError',
      message: expect.stringMatching(/protobuf parsing failed/),
    });
    expect(onWarning).not.toHaveBeenCalled();
  });

  // Needs a real GPU with the CUDA execution provider installed: reported as skipped (not passed) elsewhere.
  (CUDA ? describe : describe.skip)(
    `with CUDA (${CUDA ? 'available' : 'SKIPPED: no CUDA execution provider here'})`,
    () => {
      it('runs on the CUDA execution provider, without a warning, with correct results', async () => {
        const onWarning = jest.fn();
        const handler = new OnnxModelHandler({ modelUri: small.bytes, device: 'gpu', onWarning });
        const model = await handler.loadModel();
        expect(model.device).toBe('cuda');
        expect(onWarning).not.toHaveBeenCalled();
        const elements = small.sample(64);
        const results = await handler.runInference(elements, model, context());
        results.forEach((r, p) => expectTensorClose(r.inference as Tensor, small.forward(elements[p]).output, 1e-4));
        await handler.releaseModel(model);
      });
    },
  );
});
