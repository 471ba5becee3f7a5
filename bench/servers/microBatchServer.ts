// Baseline (b) of the serve benchmark: a hand-written node:http server with its own micro-batching — requests wait
// in a queue; whenever the model is idle, everything queued (up to 256 examples) is stacked into one `session.run`
// and the outputs are split back to their requests. The strongest simple design; `serve` must be at least as fast.
//
//   tsx bench/servers/microBatchServer.ts MODEL.onnx    → prints {"listening":"http://127.0.0.1:PORT"}
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ort from 'onnxruntime-node';

interface InferRequest {
  readonly id?: string;
  readonly inputs: readonly { name: string; shape: number[]; datatype: string; data: number[] }[];
}

interface Pending {
  readonly id: string | undefined;
  readonly rows: number;
  readonly data: readonly number[];
  readonly res: ServerResponse;
}

const MAX_BATCH = 256;

async function main(): Promise<void> {
  const session = await ort.InferenceSession.create(process.argv[2]);
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const queue: Pending[] = [];
  let running = false;

  const runBatch = async (): Promise<void> => {
    running = true;
    while (queue.length > 0) {
      const batch: Pending[] = [];
      let rows = 0;
      while (queue.length > 0 && rows + queue[0].rows <= MAX_BATCH) {
        rows += queue[0].rows;
        batch.push(queue.shift()!);
      }
      if (batch.length === 0) {
        // One request larger than a whole batch runs alone.
        batch.push(queue.shift()!);
        rows = batch[0].rows;
      }
      const width = batch[0].data.length / batch[0].rows;
      const stacked = new Float32Array(rows * width);
      let offset = 0;
      for (const p of batch) {
        stacked.set(p.data, offset);
        offset += p.data.length;
      }
      try {
        const output = (await session.run({ [inputName]: new ort.Tensor('float32', stacked, [rows, width]) }))[
          outputName
        ];
        const values = output.data as Float32Array;
        const per = values.length / rows;
        let row = 0;
        for (const p of batch) {
          const data = Array.from(values.subarray(row * per, (row + p.rows) * per));
          row += p.rows;
          p.res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              model_name: 'model',
              id: p.id,
              outputs: [{ name: outputName, datatype: 'FP32', shape: [p.rows, ...output.dims.slice(1)], data }],
            }),
          );
        }
      } catch (error) {
        for (const p of batch) p.res.writeHead(500).end(JSON.stringify({ error: String(error) }));
      }
    }
    running = false;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as InferRequest;
        const input = body.inputs[0];
        queue.push({ id: body.id, rows: input.shape[0], data: input.data, res });
        if (!running) void runBatch();
      } catch (error) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) }));
      }
    });
  });
  server.listen(0, '127.0.0.1', () => {
    console.log(JSON.stringify({ listening: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

void main();
