// A plain Node HTTP service that scores JSON requests with an ONNX model through createPredictor: every request's
// example goes into one shared runInference pipeline, so concurrent requests are batched together; a full queue
// answers 503, a client that hangs up takes its example out of the queue, and a deadline answers 504.
//
//   npx tsx examples/http-server.ts
//
// It starts the server on a free port of 127.0.0.1, sends it a few concurrent requests as a client would, prints the
// answers and shuts down (close the server, then the predictor: queued requests are answered first).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPredictor, InferenceTimeoutError, QueueFullError } from 'rxjs-inference';
import { OnnxModelHandler, type OnnxTensor } from 'rxjs-inference/handlers';
import { mlp } from '../scripts/fixtures/onnx';

async function main(): Promise<void> {
  const fixture = mlp([8, 32, 4], { seed: 2024 }); // input `input` [batch, 8] → `output` [batch, 4] (logits)
  const dir = mkdtempSync(join(tmpdir(), 'http-server-'));
  const modelPath = join(dir, 'classifier.onnx');
  writeFileSync(modelPath, fixture.bytes);

  const predictor = createPredictor(new OnnxModelHandler<Float32Array, OnnxTensor>({ modelUri: modelPath }), {
    maxQueuedRequests: 1000, // past it: QueueFullError → 503 (load shedding)
  });
  await predictor.ready; // the model is loaded

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const reply = (status: number, body: unknown): void =>
        void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      let features: unknown;
      try {
        features = (JSON.parse(Buffer.concat(chunks).toString()) as { features?: unknown }).features;
      } catch {
        reply(400, { error: 'malformed JSON' });
        return;
      }
      if (!Array.isArray(features) || features.length !== 8 || !features.every((x) => typeof x === 'number')) {
        reply(400, { error: '`features`: expected 8 numbers' });
        return;
      }
      // A client that hangs up aborts its prediction: taken out of the queue if it is still there.
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      try {
        const { inference } = await predictor.predict(Float32Array.from(features), {
          signal: abort.signal,
          timeoutMs: 2000,
        });
        const logits = Array.from(inference.data as Float32Array);
        reply(200, { class: logits.indexOf(Math.max(...logits)), logits });
      } catch (error) {
        if (error instanceof QueueFullError) reply(503, { error: 'overloaded, retry later' });
        else if (error instanceof InferenceTimeoutError) reply(504, { error: 'timed out' });
        else reply(500, { error: String(error) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}`);

  try {
    // Ten clients at once: their examples share batches.
    const examples = fixture.sample(10, 7).map(({ input }) => Array.from(input.data as Float32Array));
    const answers = await Promise.all(
      examples.map(async (features) => {
        const response = await fetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          body: JSON.stringify({ features }),
        });
        return { status: response.status, body: (await response.json()) as { class: number } };
      }),
    );
    answers.forEach(({ status, body }, i) => console.log(`client ${i}: ${status} class ${body.class}`));
    const bad = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{"features": [1, 2]}' });
    console.log(`bad request: ${bad.status} ${await bad.text()}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await predictor.close(); // answers what is queued, then releases the model
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
