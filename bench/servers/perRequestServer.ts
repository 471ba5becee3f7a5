// Baseline (a) of the serve benchmark: what a Node service author writes first — a node:http server that answers
// each Open Inference Protocol request with its own `session.run` (no batching across requests).
//
//   tsx bench/servers/perRequestServer.ts MODEL.onnx    → prints {"listening":"http://127.0.0.1:PORT"}
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ort from 'onnxruntime-node';

interface InferRequest {
  readonly id?: string;
  readonly inputs: readonly { name: string; shape: number[]; datatype: string; data: number[] }[];
}

async function main(): Promise<void> {
  const session = await ort.InferenceSession.create(process.argv[2]);
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as InferRequest;
          const input = body.inputs[0];
          const feeds = { [inputName]: new ort.Tensor('float32', Float32Array.from(input.data), input.shape) };
          const output = (await session.run(feeds))[outputName];
          const answer = JSON.stringify({
            model_name: 'model',
            id: body.id,
            outputs: [
              { name: outputName, datatype: 'FP32', shape: output.dims, data: Array.from(output.data as Float32Array) },
            ],
          });
          res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
        } catch (error) {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) }));
        }
      })();
    });
  });
  server.listen(0, '127.0.0.1', () => {
    console.log(JSON.stringify({ listening: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

void main();
