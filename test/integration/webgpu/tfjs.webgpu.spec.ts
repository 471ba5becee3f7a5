import { TfjsModelHandler, type TfjsRuntimeImporter } from '../../../src/index';
import { importTfjsPackage } from '../../../src/handlers/tfjs/tfjsRuntime';
import { writeGraphModel, writeSmallLayersModel } from '../../../scripts/fixtures/tfjs';
import {
  expectClose,
  makeTempDir,
  recordingLogger,
  removeDir,
  runBatch,
  single,
  tf,
  useBackend,
  vectors,
} from '../tfjs/tfjsTestKit';
import { describeWebGpu } from './webgpuProbe';

// The npm package `webgpu` is an ES module with a native addon: jest's module registry cannot load it, so the test
// loads it with Node's own `require` (test/environment.js; as the library's CommonJS build does, Node ≥ 20.19). The
// rest goes through the handler's default importer.
const nodeRequire = (globalThis as unknown as { nodeRequire: NodeJS.Require }).nodeRequire;
const importer: TfjsRuntimeImporter = (name) =>
  name === 'webgpu' ? Promise.resolve(nodeRequire('webgpu')) : importTfjsPackage(name);

describeWebGpu("TfjsModelHandler on the 'webgpu' backend (npm webgpu + @tensorflow/tfjs-backend-webgpu)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir();
    await useBackend('cpu'); // the fixtures are built with tensors: a started backend first
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it.each(['layers', 'graph'] as const)(
    '%s model: the results of the cpu backend and the reference, on device webgpu, no tensor left',
    async (modelType) => {
      const fixture =
        modelType === 'layers'
          ? await writeSmallLayersModel(tf, `${dir}/layers`)
          : await writeGraphModel(`${dir}/graph`);
      const logger = recordingLogger();
      const gpu = new TfjsModelHandler({
        modelUri: fixture.modelJson,
        modelType,
        backend: 'webgpu',
        importRuntime: importer,
        logger,
      });
      const cpu = new TfjsModelHandler({ modelUri: fixture.modelJson, modelType, backend: 'cpu', logger });
      const gpuModel = await gpu.loadModel();
      expect([gpuModel.backend, gpuModel.device]).toEqual(['webgpu', 'webgpu']);
      const batch = vectors(6, 4, 3);
      const baseline = tf.memory().numTensors;
      const onGpu = await runBatch(gpu, gpuModel, batch);
      expect(tf.memory().numTensors).toBe(baseline);
      const cpuModel = await cpu.loadModel();
      expect(cpuModel.device).toBe('cpu');
      const onCpu = await runBatch(cpu, cpuModel, batch);
      onGpu.forEach((r, i) => {
        expectClose(single(r.inference).data as Float32Array, fixture.reference(batch[i]), 1e-5);
        expectClose(single(r.inference).data as Float32Array, single(onCpu[i].inference).data as Float32Array, 1e-5);
      });
      gpu.releaseModel(gpuModel);
      cpu.releaseModel(cpuModel);
      expect(logger.info).toHaveBeenCalledWith(expect.stringMatching(/using the TensorFlow.js 'webgpu' backend/));
    },
  );
});
