import { createServer, type Server } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelLoadError, TfjsModelHandler } from '../../../src/index';
import { type LayersFixture, writeGraphModel, writeSmallLayersModel } from '../../../scripts/fixtures/tfjs';
import { expectClose, makeTempDir, recordingLogger, removeDir, runBatch, single, tf, useBackend } from './tfjsTestKit';

describe('TfjsModelHandler model loading (cpu backend)', () => {
  let dir = '';
  let small: LayersFixture<Float32Array>;
  let server: Server;
  let baseUrl = '';
  const requested: string[] = [];

  const handler = (modelUri: string, modelType: 'layers' | 'graph' = 'layers'): TfjsModelHandler =>
    new TfjsModelHandler({ modelUri, modelType, backend: 'cpu', logger: recordingLogger() });

  const outerFetch = globalThis.fetch;

  beforeAll(async () => {
    // Jest runs tests in their own realm but `fetch` comes from the outer one, so `response.json()` builds arrays
    // that fail tfjs-layers' `instanceof Array`: re-parse bodies in the test realm (plain Node needs no such shim).
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const response = await outerFetch(input, init);
      const body = new Uint8Array(await response.arrayBuffer());
      const text = (): string => new TextDecoder().decode(body);
      return {
        ok: response.ok,
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
        url: response.url,
        text: async () => text(),
        json: async () => JSON.parse(text()) as unknown,
        arrayBuffer: async () => body.buffer,
      };
    }) as typeof fetch;
    await useBackend('cpu');
    dir = await makeTempDir();
    small = await writeSmallLayersModel(tf, join(dir, 'small'));
    await writeGraphModel(join(dir, 'graph'));
    server = createServer((req, res) => {
      requested.push(req.url ?? '');
      readFile(join(dir, decodeURIComponent(req.url ?? '/')))
        .then((body) => res.writeHead(200).end(body))
        .catch(() => res.writeHead(404).end('not found'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    globalThis.fetch = outerFetch;
    await new Promise((resolve) => server.close(resolve));
    await removeDir(dir);
  });

  async function expectWorks(h: TfjsModelHandler, modelId?: string): Promise<void> {
    const before = tf.memory().numTensors;
    const model = await h.loadModel(modelId);
    const [r] = await runBatch(h, model, [[0.1, -0.2, 0.3, 0.9]]);
    expectClose(single(r?.inference).data, small.reference([0.1, -0.2, 0.3, 0.9]));
    h.releaseModel(model);
    expect(tf.memory().numTensors).toBe(before);
  }

  it('reads a model.json path, its directory, and a file:// URL without tfjs-node', async () => {
    await expectWorks(handler(small.modelJson));
    await expectWorks(handler(join(dir, 'small')));
    await expectWorks(handler(pathToFileURL(small.modelJson).href));
  });

  it('reads sharded weight files (several groups and paths) and uint8-quantized weights', async () => {
    const json = JSON.parse(await readFile(small.modelJson, 'utf8')) as {
      weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
    };
    const bin = new Uint8Array(await readFile(join(dir, 'small', 'weights.bin')));
    const specs = json.weightsManifest[0]?.weights ?? [];
    // Two groups: the first layer's weights (in two shard files) and the second's, in a sub-folder.
    const firstBytes = (4 * 8 + 8) * 4;
    const sharded = join(dir, 'sharded');
    await mkdir(join(sharded, 'shards'), { recursive: true });
    await writeFile(join(sharded, 'g1-1.bin'), bin.subarray(0, 100));
    await writeFile(join(sharded, 'g1-2.bin'), bin.subarray(100, firstBytes));
    await writeFile(join(sharded, 'shards', 'g2.bin'), bin.subarray(firstBytes));
    const manifest = [
      { paths: ['g1-1.bin', 'g1-2.bin'], weights: specs.slice(0, 2) },
      { paths: ['shards/g2.bin'], weights: specs.slice(2) },
    ];
    await writeFile(join(sharded, 'model.json'), JSON.stringify({ ...json, weightsManifest: manifest }));
    await expectWorks(handler(sharded));

    // uint8 quantization: one byte per value, dequantized as min + q * scale by TensorFlow.js.
    const floats = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
    let offset = 0;
    const quantizedSpecs = [];
    const bytes: number[] = [];
    const dequantized = new Float32Array(floats.length);
    for (const spec of specs) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const values = floats.subarray(offset, offset + size);
      const min = Math.min(...values);
      const scale = (Math.max(...values) - min) / 255 || 1;
      values.forEach((v, i) => {
        const q = Math.round((v - min) / scale);
        bytes.push(q);
        dequantized[offset + i] = Math.fround(min + q * scale);
      });
      quantizedSpecs.push({ ...spec, quantization: { dtype: 'uint8', min, scale } });
      offset += size;
    }
    const quantized = join(dir, 'quantized');
    await mkdir(quantized, { recursive: true });
    await writeFile(join(quantized, 'weights.bin'), Uint8Array.from(bytes));
    const quantizedManifest = [{ paths: ['weights.bin'], weights: quantizedSpecs }];
    await writeFile(join(quantized, 'model.json'), JSON.stringify({ ...json, weightsManifest: quantizedManifest }));
    const h = handler(quantized);
    const model = await h.loadModel();
    const [r] = await runBatch(h, model, [[0.1, -0.2, 0.3, 0.9]]);
    h.releaseModel(model);
    // Reference on the dequantized weights (layout: kernel 4x8, bias 8, kernel 8x3, bias 3).
    const layer = (w: Float32Array, b: Float32Array, x: number[], units: number, relu: boolean): number[] =>
      Array.from({ length: units }, (_, j) => {
        const sum = x.reduce((acc, xi, i) => acc + xi * (w[i * units + j] as number), b[j] as number);
        return relu ? Math.max(0, sum) : sum;
      });
    const h1 = layer(dequantized.subarray(0, 32), dequantized.subarray(32, 40), [0.1, -0.2, 0.3, 0.9], 8, true);
    const out = layer(dequantized.subarray(40, 64), dequantized.subarray(64, 67), h1, 3, false);
    expectClose(single(r?.inference).data, out);
  });

  it('loads an http(s) URL with TensorFlow.js own loader', async () => {
    requested.length = 0;
    await expectWorks(handler(`${baseUrl}/small/model.json`));
    expect(requested).toEqual(['/small/model.json', '/small/weights.bin']);
  });

  it('loads a modelId given by a refresh instead of the configured model', async () => {
    const h = handler(join(dir, 'missing', 'model.json'));
    await expectWorks(h, `${baseUrl}/small/model.json`);
    expect(h.defaultModelId()).toBe(join(dir, 'missing', 'model.json'));
  });

  it('fails with ModelLoadError naming the source for missing, corrupt and mismatched models', async () => {
    const before = tf.memory().numTensors;
    const cases: [TfjsModelHandler, RegExp][] = [
      [
        handler(join(dir, 'nope', 'model.json')),
        /Cannot load the TensorFlow.js layers model from `.*nope.*`: .*ENOENT/,
      ],
      [handler(`${baseUrl}/nope/model.json`), /Cannot load .* from `http:\/\/127.0.0.1:\d+\/nope\/model.json`.*404/],
      [handler(join(dir, 'graph')), /It is a graph-model, but the handler has modelType: 'layers' \(use 'graph'\)/],
      [handler(join(dir, 'small'), 'graph'), /It is a layers-model, but the handler has modelType: 'graph'/],
      [handler('indexeddb://somewhere'), /no loader registered for `indexeddb:\/\/somewhere`|indexeddb/i],
    ];
    await writeFile(join(dir, 'corrupt.json'), '{ "modelTopology": ');
    cases.push([handler(join(dir, 'corrupt.json')), /corrupt.json is not valid JSON/]);
    await writeFile(join(dir, 'empty.json'), '{}');
    cases.push([handler(join(dir, 'empty.json')), /is not a TensorFlow.js model.json: it has no `modelTopology`/]);
    const truncated = join(dir, 'truncated');
    await writeSmallLayersModel(tf, truncated);
    await writeFile(join(truncated, 'weights.bin'), new Uint8Array(10));
    cases.push([handler(truncated), /weights are truncated: the manifest needs 268 bytes, the weight files hold 10/]);
    for (const [h, message] of cases) {
      const error = await h.loadModel().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelLoadError);
      expect((error as Error).message).toMatch(message);
      expect((error as ModelLoadError).cause).toBeInstanceOf(Error);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('TfjsModelHandler config validation', () => {
  const io = { load: async () => ({}) };
  it.each([
    [undefined, { name: 'TypeError', message: /TfjsModelHandlerConfig/ }],
    [{ modelUri: 'm.json' }, { name: 'TypeError', message: /Expected `modelType` to be one of 'graph', 'layers'/ }],
    [
      { modelUri: 'm.json', modelType: 'keras' },
      { name: 'RangeError', message: /`modelType`/ },
    ],
    [{ modelType: 'graph' }, { name: 'TypeError', message: /exactly one of `modelUri` and `ioHandler`, got neither/ }],
    [
      { modelType: 'graph', modelUri: 'm', ioHandler: io },
      { name: 'TypeError', message: /got both/ },
    ],
    [
      { modelType: 'graph', modelUri: '' },
      { name: 'TypeError', message: /`modelUri` to be a non-empty string/ },
    ],
    [
      { modelType: 'graph', ioHandler: {} },
      { name: 'TypeError', message: /`ioHandler` to be an IOHandler/ },
    ],
    [
      { modelType: 'graph', modelUri: 'm', backend: 'webgl' },
      { name: 'RangeError', message: /`backend`/ },
    ],
    [
      { modelType: 'graph', modelUri: 'm', outputs: 'json' },
      { name: 'RangeError', message: /`outputs`/ },
    ],
    [
      { modelType: 'graph', modelUri: 'm', checkFinite: 1 },
      { name: 'TypeError', message: /`checkFinite`/ },
    ],
    [
      { modelType: 'graph', modelUri: 'm', maxBatchSize: 0 },
      { name: 'RangeError', message: /`maxBatchSize`/ },
    ],
    [
      { modelType: 'graph', modelUri: 'm', minBatchSize: 1.5 },
      { name: 'RangeError', message: /`minBatchSize`/ },
    ],
    [
      { modelType: 'graph', modelUri: 'm', maxBatchDurationMs: -1 },
      { name: 'RangeError', message: /`maxBatchDurationMs`/ },
    ],
    [
      { modelType: 'graph', modelUri: 'm', importRuntime: 'x' },
      { name: 'TypeError', message: /`importRuntime`/ },
    ],
    [
      { modelType: 'graph', modelUri: 'm', logger: { info() {} } },
      { name: 'TypeError', message: /`logger`/ },
    ],
  ])('rejects %p', (config, expected) => {
    const { name, message } = expected as { name: string; message: RegExp };
    expect(() => new TfjsModelHandler(config as never)).toThrow(
      expect.objectContaining({ name, message: expect.stringMatching(message) }),
    );
  });

  it('passes batch sizes and the shape key into batchConfig()', () => {
    const h = new TfjsModelHandler({ modelUri: 'm', modelType: 'layers', maxBatchSize: 64, maxBatchDurationMs: 5 });
    const config = h.batchConfig();
    expect(config).toMatchObject({ maxBatchSize: 64, maxBatchDurationMs: 5 });
    expect(config).not.toHaveProperty('minBatchSize');
    const key = config.batchKeyFn as (x: unknown) => unknown;
    const t = tf.tensor2d([[1, 2]]);
    const keys = [
      [1, 2, 3],
      [4, 5, 6],
      [[1, 2, 3]],
      { data: new Float32Array(3), shape: [3] },
      { data: new Int32Array(3), shape: [3] },
      { data: [1, 2, 3], shape: [3] },
      t,
      { a: [1, 2], b: { data: new Float32Array(2), shape: [2] } },
      { b: { data: new Float32Array(2), shape: [2] }, a: [9, 9] },
      'junk',
    ].map(key);
    t.dispose();
    expect(keys[0]).toBe(keys[1]);
    expect(new Set([keys[0], keys[2], keys[3], keys[4], keys[6]]).size).toBe(5);
    expect(keys[5]).toBe(keys[0]); // plain numbers, whatever the container, are converted alike
    expect(keys[7]).toBe(keys[8]); // records: input order does not matter
    expect(keys[9]).toBe('invalid');
  });

  it('counts the bytes of a batch', () => {
    const h = new TfjsModelHandler({ modelUri: 'm', modelType: 'layers' });
    const t = tf.zeros([2, 3], 'int32');
    expect(h.getNumBytes([[1, 2, 3], { data: new Uint8Array(5), shape: [5] }, t as never, { x: [[1], [2]] }])).toBe(
      12 + 5 + 24 + 8,
    );
    t.dispose();
  });
});
