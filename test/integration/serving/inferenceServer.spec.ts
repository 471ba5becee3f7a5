import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { createPredictor, MetricsRegistry, ModelHandler, modelHandler, OnnxModelHandler } from 'rxjs-inference';
import { createInferenceServer } from '../../../src/serving/createInferenceServer';
import type { InferenceServer } from '../../../src/serving/InferenceServer';
import type { ServedModel } from '../../../src/serving/ServedModel';
import { servedModelOf } from '../../../src/serving/servedModelOf';
import {
  dtypes,
  mlp,
  stringIdentity,
  twoInputsTwoOutputs,
  type ElementInputs,
  type OnnxFixture,
} from '../../../scripts/fixtures/onnx';

interface Started {
  readonly server: InferenceServer;
  readonly base: string;
  readonly metrics: MetricsRegistry;
}

const running: InferenceServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function serveOnnx(
  bytes: Uint8Array,
  name: string,
  options: { maxQueuedRequests?: number; maxBodyBytes?: number; requestTimeoutMs?: number } = {},
): Promise<Started> {
  const handler = new OnnxModelHandler({ modelUri: bytes });
  const probe = await handler.loadModel();
  const model = servedModelOf(probe, { name });
  await handler.releaseModel(probe);
  return start(handler, model, options);
}

async function start(
  handler: ModelHandler<any, any, any>,
  model: ServedModel,
  options: { maxQueuedRequests?: number; maxBodyBytes?: number; requestTimeoutMs?: number } = {},
): Promise<Started> {
  const metrics = new MetricsRegistry();
  const predictor = createPredictor(handler, {
    metrics,
    ...(options.maxQueuedRequests !== undefined && { maxQueuedRequests: options.maxQueuedRequests }),
  });
  await predictor.ready;
  const server = createInferenceServer({
    predictor,
    model,
    metrics,
    serverVersion: '9.9.9',
    ...(options.maxBodyBytes !== undefined && { maxBodyBytes: options.maxBodyBytes }),
    ...(options.requestTimeoutMs !== undefined && { requestTimeoutMs: options.requestTimeoutMs }),
  });
  running.push(server);
  const address = await server.listen(0, '127.0.0.1');
  return { server, base: `http://127.0.0.1:${address.port}`, metrics };
}

async function post(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function get(url: string): Promise<{ status: number; json: any }> {
  const response = await fetch(url);
  return { status: response.status, json: await response.json() };
}

/** The protocol request for `elements` of a fixture: each input's rows stacked, flat, with shape [n, ...dims]. */
function inferRequest(fixture: OnnxFixture, elements: ElementInputs[], datatypes: Record<string, string>): object {
  return {
    inputs: fixture.inputs.map((spec) => ({
      name: spec.name,
      shape: [elements.length, ...elements[0][spec.name].dims],
      datatype: datatypes[spec.type],
      data: elements.flatMap((e) =>
        Array.from(e[spec.name].data as ArrayLike<unknown>, (v) =>
          typeof v === 'bigint' ? Number(v) : spec.type === 'bool' ? v !== 0 : v,
        ),
      ),
    })),
  };
}

const DATATYPES: Record<string, string> = {
  float32: 'FP32',
  float64: 'FP64',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  bool: 'BOOL',
};

/** The expected response output `name` for `elements`: the reference maths, stacked. */
function expectedOutput(fixture: OnnxFixture, elements: ElementInputs[], name: string) {
  const rows = elements.map((e) => fixture.forward(e)[name]);
  return {
    name,
    shape: [elements.length, ...rows[0].dims],
    datatype: DATATYPES[rows[0].type],
    data: rows.flatMap((r) =>
      Array.from(r.data as ArrayLike<unknown>, (v) =>
        typeof v === 'bigint' ? Number(v) : r.type === 'bool' ? v !== 0 : v,
      ),
    ),
  };
}

function expectClose(actual: any, expected: ReturnType<typeof expectedOutput>, tolerance = 1e-5): void {
  expect({ name: actual.name, shape: actual.shape, datatype: actual.datatype }).toEqual({
    name: expected.name,
    shape: expected.shape,
    datatype: expected.datatype,
  });
  expect(actual.data).toHaveLength(expected.data.length);
  expected.data.forEach((e, i) => {
    if (typeof e === 'number' && expected.datatype.startsWith('FP'))
      expect(Math.abs(actual.data[i] - e)).toBeLessThan(tolerance);
    else expect(actual.data[i]).toEqual(e);
  });
}

describe('Open Inference Protocol server (real HTTP over 127.0.0.1)', () => {
  const model = mlp([8, 16, 4], { name: 'small-mlp' });

  it('answers server metadata, health, model metadata and model readiness', async () => {
    const { base } = await serveOnnx(model.bytes, 'small-mlp');
    expect(await get(`${base}/v2`)).toEqual({
      status: 200,
      json: { name: 'rxjs-inference', version: '9.9.9', extensions: [] },
    });
    expect(await get(`${base}/v2/health/live`)).toEqual({ status: 200, json: { live: true } });
    expect(await get(`${base}/v2/health/ready`)).toEqual({ status: 200, json: { live: true, ready: true } });
    expect(await get(`${base}/v2/models/small-mlp`)).toEqual({
      status: 200,
      json: {
        name: 'small-mlp',
        versions: ['1'],
        platform: 'onnx_onnxv1',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 8] }],
        outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 4] }],
      },
    });
    expect(await get(`${base}/v2/models/small-mlp/ready`)).toEqual({
      status: 200,
      json: { name: 'small-mlp', ready: true },
    });
    expect((await get(`${base}/v2/models/small-mlp/versions/1/ready`)).status).toBe(200);
  });

  it('infers: n rows → n examples, outputs match the reference maths, the id comes back', async () => {
    const { base } = await serveOnnx(model.bytes, 'small-mlp');
    const elements = model.sample(3, 7);
    const { status, json } = await post(`${base}/v2/models/small-mlp/infer`, {
      id: 'req-42',
      ...inferRequest(model, elements, DATATYPES),
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ model_name: 'small-mlp', model_version: '1', id: 'req-42' });
    expect(json.outputs).toHaveLength(1);
    expectClose(json.outputs[0], expectedOutput(model, elements, model.outputNames[0]));
  });

  it('reads nested row-major data as well as flat data, and serves the versioned route', async () => {
    const { base } = await serveOnnx(model.bytes, 'small-mlp');
    const elements = model.sample(2, 9);
    const flat = inferRequest(model, elements, DATATYPES) as { inputs: { data: number[] }[] };
    const nested = {
      inputs: [{ ...flat.inputs[0], data: [flat.inputs[0].data.slice(0, 8), flat.inputs[0].data.slice(8)] }],
    };
    const { status, json } = await post(`${base}/v2/models/small-mlp/versions/1/infer`, nested);
    expect(status).toBe(200);
    expect(json.id).toBeUndefined();
    expectClose(json.outputs[0], expectedOutput(model, elements, 'output'));
  });

  it('returns only the requested outputs, with each output its own datatype (INT64)', async () => {
    const fixture = twoInputsTwoOutputs();
    const { base } = await serveOnnx(fixture.bytes, 'two');
    const elements = fixture.sample(4, 3);
    const all = await post(`${base}/v2/models/two/infer`, inferRequest(fixture, elements, DATATYPES));
    expect(all.json.outputs.map((o: { name: string }) => o.name)).toEqual(['logits', 'label']);
    const { status, json } = await post(`${base}/v2/models/two/infer`, {
      ...inferRequest(fixture, elements, DATATYPES),
      outputs: [{ name: 'label' }],
    });
    expect(status).toBe(200);
    expect(json.outputs).toHaveLength(1);
    expectClose(json.outputs[0], expectedOutput(fixture, elements, 'label'));
  });

  it('carries FP64, INT32, INT64, UINT8 and BOOL tensors both ways', async () => {
    const fixture = dtypes();
    const { base } = await serveOnnx(fixture.bytes, 'dtypes');
    const elements = fixture.sample(3, 5);
    const { status, json } = await post(`${base}/v2/models/dtypes/infer`, inferRequest(fixture, elements, DATATYPES));
    expect(status).toBe(200);
    for (const name of fixture.outputNames) {
      expectClose(
        json.outputs.find((o: { name: string }) => o.name === name),
        expectedOutput(fixture, elements, name),
      );
    }
  });

  it('carries BYTES (strings) tensors', async () => {
    const { base } = await serveOnnx(stringIdentity(), 'strings');
    const { status, json } = await post(`${base}/v2/models/strings/infer`, {
      inputs: [
        {
          name: 'text',
          shape: [2, 2],
          datatype: 'BYTES',
          data: [
            ['a', 'b'],
            ['c', 'dé'],
          ],
        },
      ],
    });
    expect(status).toBe(200);
    expect(json.outputs).toEqual([{ name: 'same', datatype: 'BYTES', shape: [2, 2], data: ['a', 'b', 'c', 'dé'] }]);
  });

  it('answers concurrent clients each with their own outputs', async () => {
    const { base } = await serveOnnx(model.bytes, 'small-mlp');
    const requests = Array.from({ length: 40 }, (_, i) => model.sample(1 + (i % 3), 100 + i));
    const answers = await Promise.all(
      requests.map((elements) => post(`${base}/v2/models/small-mlp/infer`, inferRequest(model, elements, DATATYPES))),
    );
    answers.forEach(({ status, json }, i) => {
      expect(status).toBe(200);
      expectClose(json.outputs[0], expectedOutput(model, requests[i], 'output'));
    });
  });

  describe('bad requests get 400 with { error } naming the field', () => {
    let base: string;
    beforeEach(async () => {
      ({ base } = await serveOnnx(model.bytes, 'small-mlp'));
    });
    const good = () => inferRequest(model, model.sample(2, 1), DATATYPES) as { inputs: Record<string, unknown>[] };
    const cases: [string, () => unknown, RegExp][] = [
      ['malformed JSON', () => '{"inputs": [', /malformed JSON/],
      ['a body that is not an object', () => [1, 2], /request body: expected a JSON object/],
      ['no inputs', () => ({}), /`inputs`: expected a non-empty array/],
      [
        'a wrong shape',
        () => ({ inputs: [{ ...good().inputs[0], shape: [2, 7] }] }),
        /`inputs\[0\]\.shape`.*\[-1, 8\]/,
      ],
      [
        'a wrong datatype',
        () => ({ inputs: [{ ...good().inputs[0], datatype: 'FP64' }] }),
        /`inputs\[0\]\.datatype`: the model's input `input` is FP32, got FP64/,
      ],
      ['an unknown datatype', () => ({ inputs: [{ ...good().inputs[0], datatype: 'FLOAT' }] }), /unknown datatype/],
      [
        'too few values',
        () => ({ inputs: [{ ...good().inputs[0], data: [1, 2, 3] }] }),
        /`inputs\[0\]\.data`: shape \[2, 8\] needs 16 values, got 3/,
      ],
      [
        'a non-numeric value',
        () => {
          const body = good();
          (body.inputs[0].data as unknown[])[5] = 'x';
          return body;
        },
        /`inputs\[0\]\.data\[5\]`: expected a number \(FP32\), got "x"/,
      ],
      [
        'an FP32 value beyond float32 (it would become Infinity)',
        () => {
          const body = good();
          (body.inputs[0].data as unknown[])[2] = 1e39;
          return body;
        },
        /`inputs\[0\]\.data\[2\]`: expected a number \(FP32\), got 1e\+39/,
      ],
      [
        'an unknown input',
        () => ({ inputs: [{ ...good().inputs[0], name: 'nope' }] }),
        /`inputs\[0\]\.name`.*no input `nope`/,
      ],
      [
        'an unknown output',
        () => ({ ...good(), outputs: [{ name: 'nope' }] }),
        /`outputs\[0\]\.name`.*no output `nope`/,
      ],
      ['a non-string id', () => ({ ...good(), id: 5 }), /`id`: expected a string/],
      [
        'the binary data extension',
        () => ({ ...good(), parameters: { binary_data_output: true } }),
        /binary tensor data extension is not supported/,
      ],
    ];
    it.each(cases)('%s', async (_title, body, message) => {
      const { status, json } = await post(`${base}/v2/models/small-mlp/infer`, body());
      expect(status).toBe(400);
      expect(json.error).toMatch(message);
    });
  });

  it('an unknown model, version or route gets 404; a wrong method 405', async () => {
    const { base } = await serveOnnx(model.bytes, 'small-mlp');
    const unknown = await post(`${base}/v2/models/other/infer`, { inputs: [] });
    expect(unknown).toEqual({ status: 404, json: { error: 'Unknown model `other`: this server serves `small-mlp`.' } });
    expect((await get(`${base}/v2/models/small-mlp/versions/2`)).status).toBe(404);
    expect((await get(`${base}/v1/models`)).status).toBe(404);
    expect((await get(`${base}/v2/models/small-mlp/infer`)).status).toBe(405);
  });

  it('a body over maxBodyBytes gets 413 before it is parsed, with or without Content-Length', async () => {
    const { base } = await serveOnnx(model.bytes, 'small-mlp', { maxBodyBytes: 1024 });
    const big = JSON.stringify({
      inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', data: 'x'.repeat(5000) }],
    });
    const declared = await post(`${base}/v2/models/small-mlp/infer`, big);
    expect(declared.status).toBe(413);
    expect(declared.json.error).toMatch(/over the limit of 1024 bytes/);
    const chunked = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${base}/v2/models/small-mlp/infer`);
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(500));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it('overload: past maxQueuedRequests the request gets 503', async () => {
    const { base } = await serveOnnx(model.bytes, 'small-mlp', { maxQueuedRequests: 2 });
    const { status, json } = await post(
      `${base}/v2/models/small-mlp/infer`,
      inferRequest(model, model.sample(3, 1), DATATYPES),
    );
    expect(status).toBe(503);
    expect(json.error).toMatch(/maxQueuedRequests 2/);
    expect(
      (await post(`${base}/v2/models/small-mlp/infer`, inferRequest(model, model.sample(2, 1), DATATYPES))).status,
    ).toBe(200);
  });

  it('/metrics is Prometheus text with the inference and server metrics', async () => {
    const { base } = await serveOnnx(model.bytes, 'small-mlp');
    await post(`${base}/v2/models/small-mlp/infer`, inferRequest(model, model.sample(2, 1), DATATYPES));
    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const text = await response.text();
    expect(text).toMatch(/^rxjs_inference_num_inferences_total\{namespace="RunInference",model=""\} 2$/m);
    expect(text).toMatch(/^rxjs_inference_infer_examples_total\{namespace="Serve",model=""\} 2$/m);
    expect(text).toMatch(/^# TYPE rxjs_inference_predictor_queued_requests gauge$/m);
  });

  describe('with a slow model (a real handler that takes 150 ms per batch)', () => {
    const slowModel: ServedModel = {
      name: 'slow',
      version: '1',
      platform: 'custom',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
      tensorFormat: 'onnx',
    };
    function slowHandler(seen: number[]) {
      return modelHandler({
        runInference: async (batch: readonly { data: Float32Array }[]) => {
          seen.push(...batch.map((e) => e.data[0]));
          await new Promise((resolve) => setTimeout(resolve, 150));
          return batch.map((e) => ({ data: Float32Array.of(e.data[0] * 2), dims: [1], type: 'float32' }));
        },
      });
    }
    const body = (x: number) => JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [x] }] });

    it('a client disconnecting while its request waits: its example leaves the queue, the model never sees it', async () => {
      const seen: number[] = [];
      const { base } = await start(slowHandler(seen), slowModel);
      const first = post(`${base}/v2/models/slow/infer`, body(1));
      await new Promise((resolve) => setTimeout(resolve, 30));
      // The second client sends its request, then hangs up while the first batch is running.
      const url = new URL(base);
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/v2/models/slow/infer', method: 'POST' });
      req.on('error', () => undefined);
      req.end(body(2));
      await new Promise((resolve) => setTimeout(resolve, 30));
      req.destroy();
      expect(await first).toMatchObject({ status: 200, json: { outputs: [{ data: [2] }] } });
      const third = await post(`${base}/v2/models/slow/infer`, body(3));
      expect(third.json.outputs[0].data).toEqual([6]);
      expect(seen).toEqual([1, 3]);
    });

    it('a client disconnecting mid-body leaves the server serving', async () => {
      const { base } = await start(slowHandler([]), slowModel);
      const url = new URL(base);
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        path: '/v2/models/slow/infer',
        method: 'POST',
        headers: { 'content-length': 1000 },
      });
      req.on('error', () => undefined);
      req.write('{"inputs": [');
      await new Promise((resolve) => setTimeout(resolve, 30));
      req.destroy();
      expect((await post(`${base}/v2/models/slow/infer`, body(4))).json.outputs[0].data).toEqual([8]);
    });

    it('overload: with one request waiting and maxQueuedRequests 1, the next gets 503 at once', async () => {
      const { base } = await start(slowHandler([]), slowModel, { maxQueuedRequests: 1 });
      const first = post(`${base}/v2/models/slow/infer`, body(1));
      await new Promise((resolve) => setTimeout(resolve, 30));
      const second = await post(`${base}/v2/models/slow/infer`, body(2));
      expect(second.status).toBe(503);
      expect((await first).status).toBe(200);
    });

    it('a request not answered within requestTimeoutMs gets 504; queued, its example never reaches the model', async () => {
      const seen: number[] = [];
      const { base } = await start(slowHandler(seen), slowModel, { requestTimeoutMs: 100 });
      const first = post(`${base}/v2/models/slow/infer`, body(1));
      await new Promise((resolve) => setTimeout(resolve, 20));
      const late = await post(`${base}/v2/models/slow/infer`, body(2));
      expect(late.status).toBe(504);
      expect(late.json.error).toMatch(/not answered within 100 ms/);
      expect((await first).status).toBe(504);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(seen).toEqual([1]);
    });

    it('a stalled client is cut after requestTimeoutMs with 408', async () => {
      const { base } = await start(slowHandler([]), slowModel, { requestTimeoutMs: 300 });
      const url = new URL(base);
      const started = Date.now();
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.write('POST /v2/models/slow/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"inp');
        });
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('close() drains: stops accepting, answers the request in flight, then closes', async () => {
      const { base, server } = await start(slowHandler([]), slowModel);
      const inFlight = post(`${base}/v2/models/slow/infer`, body(5));
      await new Promise((resolve) => setTimeout(resolve, 30));
      const closed = server.close();
      expect((await inFlight).json.outputs[0].data).toEqual([10]);
      await closed;
      await expect(fetch(`${base}/v2/health/live`)).rejects.toThrow();
    });
  });
});
