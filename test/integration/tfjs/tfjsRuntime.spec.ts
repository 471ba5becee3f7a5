import { MissingRuntimeError } from '../../../src/core/errors';
import { TfjsModelHandler } from '../../../src/handlers/tfjs/TfjsModelHandler';
import { type TfjsRuntimePackage, importTfjsPackage, loadTfjsRuntime } from '../../../src/handlers/tfjs/tfjsRuntime';
import { writeSmallLayersModel } from '../../../scripts/fixtures/tfjs';
import { makeTempDir, recordingLogger, removeDir, runBatch, single, expectClose, tf } from './tfjsTestKit';

type Installed = Partial<Record<TfjsRuntimePackage, unknown>>;

/** An importer that sees only `installed` (an `Error` value: installed but broken), recording what was asked. */
function fakeImporter(installed: Installed): jest.Mock<Promise<unknown>, [TfjsRuntimePackage]> {
  return jest.fn(async (name: TfjsRuntimePackage) => {
    const value = installed[name];
    if (value instanceof Error) throw value;
    return value;
  });
}

/** Stands in for @tensorflow/tfjs-node(-gpu): an API whose native backend activates. */
function fakeNodeRuntime(): { tensor: () => void; setBackend: jest.Mock; ready: jest.Mock } {
  return { tensor: () => undefined, setBackend: jest.fn(async () => true), ready: jest.fn(async () => undefined) };
}

const realTfjs = (): unknown => tf;
const realWasm = (): Promise<unknown> => import('@tensorflow/tfjs-backend-wasm');

describe('TensorFlow.js runtime selection', () => {
  afterEach(async () => {
    await tf.setBackend('cpu');
  });

  it("'webgpu' is never chosen automatically; asked for, a missing package is named", async () => {
    const logger = recordingLogger();
    const auto = fakeImporter({ '@tensorflow/tfjs': realTfjs() });
    expect(await loadTfjsRuntime(undefined, auto, logger)).toMatchObject({ backend: 'cpu' });
    expect(auto.mock.calls.map((c) => c[0])).not.toContain('webgpu');
    for (const missing of ['webgpu', '@tensorflow/tfjs-backend-webgpu'] as const) {
      const installed: Installed = { '@tensorflow/tfjs': realTfjs(), webgpu: { create: () => ({}), globals: {} } };
      if (missing === 'webgpu') delete installed.webgpu;
      const error = await loadTfjsRuntime('webgpu', fakeImporter(installed), logger).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MissingRuntimeError);
      expect((error as Error).message).toContain(missing);
    }
  });

  it('prefers tfjs-node-gpu, then tfjs-node, then wasm, then cpu', async () => {
    const gpu = fakeNodeRuntime();
    const node = fakeNodeRuntime();
    const wasm = await realWasm();
    const logger = recordingLogger();

    let importer = fakeImporter({ '@tensorflow/tfjs-node-gpu': gpu, '@tensorflow/tfjs-node': node });
    let runtime = await loadTfjsRuntime(undefined, importer, logger);
    expect(runtime).toMatchObject({ backend: 'tensorflow', packageName: '@tensorflow/tfjs-node-gpu' });
    expect(runtime.tf).toBe(gpu);
    expect(gpu.setBackend).toHaveBeenCalledWith('tensorflow');
    expect(importer.mock.calls.map((c) => c[0])).toEqual(['@tensorflow/tfjs-node-gpu']);

    importer = fakeImporter({ '@tensorflow/tfjs-node': node, '@tensorflow/tfjs': realTfjs() });
    runtime = await loadTfjsRuntime(undefined, importer, logger);
    expect(runtime).toMatchObject({ backend: 'tensorflow', packageName: '@tensorflow/tfjs-node' });
    expect(importer.mock.calls.map((c) => c[0])).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);

    // With tfjs-node absent, wasm is chosen.
    importer = fakeImporter({ '@tensorflow/tfjs': realTfjs(), '@tensorflow/tfjs-backend-wasm': wasm });
    runtime = await loadTfjsRuntime(undefined, importer, logger);
    expect(runtime).toMatchObject({ backend: 'wasm', packageName: '@tensorflow/tfjs-backend-wasm' });
    expect(tf.getBackend()).toBe('wasm');
    expect(importer.mock.calls.map((c) => c[0])).toEqual([
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-node',
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-backend-wasm',
    ]);

    importer = fakeImporter({ '@tensorflow/tfjs': realTfjs() });
    runtime = await loadTfjsRuntime(undefined, importer, logger);
    expect(runtime).toMatchObject({ backend: 'cpu', packageName: '@tensorflow/tfjs' });
    expect(tf.getBackend()).toBe('cpu');
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('skips an installed but broken runtime with a warning', async () => {
    const logger = recordingLogger();
    const importer = fakeImporter({
      '@tensorflow/tfjs-node': new Error('The Node.js native addon module (tfjs_binding.node) can not be found'),
      '@tensorflow/tfjs': realTfjs(),
      '@tensorflow/tfjs-backend-wasm': await realWasm(),
    });
    const runtime = await loadTfjsRuntime(undefined, importer, logger);
    expect(runtime.backend).toBe('wasm');
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatch(
      /@tensorflow\/tfjs-node is installed but failed to load.*native addon/,
    );

    const refusing = fakeNodeRuntime();
    refusing.setBackend.mockResolvedValue(false);
    const cpu = await loadTfjsRuntime(
      undefined,
      fakeImporter({ '@tensorflow/tfjs-node-gpu': refusing, '@tensorflow/tfjs': realTfjs() }),
      logger,
    );
    expect(cpu.backend).toBe('cpu');
    expect(logger.warn.mock.calls[1]?.[0]).toMatch(/backend 'tensorflow' failed to initialize/);
  });

  it('names the package to install when a runtime is missing', async () => {
    const logger = recordingLogger();
    const cases: [Parameters<typeof loadTfjsRuntime>[0], Installed, string][] = [
      [undefined, {}, '@tensorflow/tfjs'],
      ['cpu', {}, '@tensorflow/tfjs'],
      ['wasm', {}, '@tensorflow/tfjs'],
      ['wasm', { '@tensorflow/tfjs': realTfjs() }, '@tensorflow/tfjs-backend-wasm'],
      ['tensorflow', { '@tensorflow/tfjs': realTfjs() }, '@tensorflow/tfjs-node'],
    ];
    for (const [backend, installed, packageName] of cases) {
      const importer = fakeImporter(installed);
      const error = await loadTfjsRuntime(backend, importer, logger).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MissingRuntimeError);
      expect(error).toMatchObject({ packageName, message: expect.stringContaining(`npm install ${packageName}`) });
      if (backend !== undefined && backend !== 'tensorflow') {
        expect(importer.mock.calls.map((c) => c[0])).not.toContain('@tensorflow/tfjs-node');
      }
    }
    // An explicitly chosen backend whose package is broken reports that package's own error.
    const broken = fakeImporter({
      '@tensorflow/tfjs': realTfjs(),
      '@tensorflow/tfjs-backend-wasm': new Error('bad wasm'),
    });
    await expect(loadTfjsRuntime('wasm', broken, logger)).rejects.toThrow('bad wasm');
  });

  it('the default importer resolves installed packages and answers undefined for absent ones', async () => {
    expect(await importTfjsPackage('@tensorflow/tfjs')).toHaveProperty('tensor');
    let nodeInstalled = true;
    try {
      require.resolve('@tensorflow/tfjs-node');
    } catch {
      nodeInstalled = false;
    }
    if (!nodeInstalled) expect(await importTfjsPackage('@tensorflow/tfjs-node')).toBeUndefined();
  });
});

describe('TfjsModelHandler runtime loading', () => {
  let dir = '';
  let modelJson = '';

  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = await makeTempDir();
    modelJson = (await writeSmallLayersModel(tf, dir)).modelJson;
  });

  afterAll(async () => {
    await removeDir(dir);
  });

  it('chooses the best installed runtime on first load, logs the choice once, and runs the model', async () => {
    let nodeInstalled = true;
    try {
      require.resolve('@tensorflow/tfjs-node');
    } catch {
      nodeInstalled = false;
    }
    const logger = recordingLogger();
    const handler = new TfjsModelHandler({ modelUri: modelJson, modelType: 'layers', logger });
    const first = await handler.loadModel();
    const second = await handler.loadModel();
    const expected = nodeInstalled ? 'tensorflow' : 'wasm';
    expect(first.backend).toBe(expected);
    expect(tf.getBackend()).toBe(expected);
    expect(logger.info).toHaveBeenCalledTimes(1);
    expect(logger.info.mock.calls[0]?.[0]).toMatch(new RegExp(`'${expected}' backend.*whole process`));
    const [r] = await runBatch(handler, first, [[1, 0, -1, 2]]);
    expect(single(r?.inference).shape).toEqual([3]);
    handler.releaseModel(first);
    handler.releaseModel(second);
  });

  it("sets its backend again on load when another handler switched the process's backend", async () => {
    const wasmHandler = new TfjsModelHandler({
      modelUri: modelJson,
      modelType: 'layers',
      backend: 'wasm',
      logger: recordingLogger(),
    });
    const cpuHandler = new TfjsModelHandler({
      modelUri: modelJson,
      modelType: 'layers',
      backend: 'cpu',
      logger: recordingLogger(),
    });
    const a = await wasmHandler.loadModel();
    const b = await cpuHandler.loadModel();
    expect(tf.getBackend()).toBe('cpu');
    const c = await wasmHandler.loadModel(); // a refresh
    expect(tf.getBackend()).toBe('wasm');
    expect(c.backend).toBe('wasm');
    // Each batch runs on its model's backend (tfjs refuses kernels on weights held by another backend).
    const [rb] = await runBatch(cpuHandler, b, [[1, 2, 3, 4]]);
    expect(tf.getBackend()).toBe('cpu');
    const [ra] = await runBatch(wasmHandler, a, [[1, 2, 3, 4]]);
    expect(tf.getBackend()).toBe('wasm');
    expectClose(single(ra?.inference).data, single(rb?.inference).data);
    // A backend that cannot be switched back to fails the batch instead of spinning.
    const stuckTf = { getBackend: () => 'wasm', setBackend: jest.fn(async () => false) };
    await expect(runBatch(cpuHandler, { ...b, tf: stuckTf as never }, [[1, 2, 3, 4]])).rejects.toThrow(
      /Cannot switch TensorFlow.js back to the 'cpu' backend .* \(the process's backend is 'wasm'\)/,
    );
    expect(stuckTf.setBackend).toHaveBeenCalledTimes(1);
    for (const [h, m] of [
      [wasmHandler, a],
      [cpuHandler, b],
      [wasmHandler, c],
    ] as const)
      h.releaseModel(m);
  });

  it('rejects loadModel with MissingRuntimeError, and tries again on the next load', async () => {
    const installed: Installed = {};
    const importer = fakeImporter(installed);
    const handler = new TfjsModelHandler({
      modelUri: modelJson,
      modelType: 'layers',
      backend: 'wasm',
      importRuntime: importer,
      logger: recordingLogger(),
    });
    await expect(handler.loadModel()).rejects.toMatchObject({
      name: 'MissingRuntimeError',
      packageName: '@tensorflow/tfjs',
    });
    installed['@tensorflow/tfjs'] = realTfjs();
    await expect(handler.loadModel()).rejects.toMatchObject({ packageName: '@tensorflow/tfjs-backend-wasm' });
    installed['@tensorflow/tfjs-backend-wasm'] = await realWasm();
    const model = await handler.loadModel();
    expect(model.backend).toBe('wasm');
    const [r] = await runBatch(handler, model, [[0.5, 0.5, 0.5, 0.5]]);
    expectClose(
      single(r?.inference).data,
      (await writeSmallLayersModel(tf, `${dir}/again`)).reference([0.5, 0.5, 0.5, 0.5]),
    );
    handler.releaseModel(model);
  });
});

describe('importing the entry points', () => {
  it('loads no TensorFlow.js package until a model is loaded', () => {
    const loaded: string[] = [];
    jest.isolateModules(() => {
      for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-core']) {
        jest.doMock(name, () => {
          loaded.push(name);
          return {};
        });
      }
      for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
        jest.doMock(
          name,
          () => {
            loaded.push(name);
            return {};
          },
          { virtual: true },
        );
      }
      // isolateModules needs synchronous require to load the entry points in the mocked registry.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const handlers = require('../../../src/handlers/index') as Record<string, unknown>;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../../src/index');
      const Handler = handlers.TfjsModelHandler as typeof TfjsModelHandler;
      expect(typeof Handler).toBe('function');
      new Handler({ modelUri: 'model.json', modelType: 'graph' });
    });
    expect(loaded).toEqual([]);
  });
});
