// Scores sentences with a model behind an HTTP API, through runInference and RemoteModelHandler.
//
//   npx tsx examples/remote-model.ts
//
// The "remote model" is a small HTTP server started here on 127.0.0.1 (an ephemeral port): POST /predict with
// `{ "inputs": string[] }` answers `{ "outputs": number[] }`, a sentiment score per sentence. Like a real service it
// is sometimes unavailable (its 2nd request gets a 503) and sometimes rate-limits (its 4th gets a 429 with
// `Retry-After: 1`): the handler retries both, with backoff, and the pipeline still emits every result once, in order.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { from, lastValueFrom, toArray } from 'rxjs';
import { runInference } from 'rxjs-inference';
import { HttpError, RemoteModelHandler } from 'rxjs-inference/handlers';

const POSITIVE = ['good', 'great', 'love', 'fast', 'clear'];
const NEGATIVE = ['bad', 'slow', 'hate', 'broken', 'confusing'];

function score(sentence: string): number {
  const words = sentence.toLowerCase().split(/\W+/);
  const hits = (list: string[]) => words.filter((w) => list.includes(w)).length;
  return hits(POSITIVE) - hits(NEGATIVE);
}

/** The stand-in for a hosted model: scores a batch per request, with a 503 and a 429 along the way. */
async function startModelServer(): Promise<{ server: Server; url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests++;
      if (requests === 2) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"warming up"}');
        return;
      }
      if (requests === 4) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":"quota"}');
        return;
      }
      const { inputs } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { inputs: string[] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ outputs: inputs.map(score) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/predict`, requests: () => requests };
}

async function main(): Promise<void> {
  const { server, url, requests } = await startModelServer();
  try {
    const handler = new RemoteModelHandler<string, number>({
      // One request per batch; throw HttpError on an error status so that 429/5xx are retried and 4xx are not.
      request: async (batch, { signal }) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: batch }),
          signal,
        });
        if (!response.ok) throw await HttpError.fromResponse(response);
        return ((await response.json()) as { outputs: number[] }).outputs;
      },
      retry: { maxAttempts: 4, initialDelayMs: 100 },
      maxConcurrentRequests: 2,
      timeoutMs: 5000,
      batch: { maxBatchSize: 4 },
    });

    const sentences = [
      'I love how fast this is',
      'The docs are confusing',
      'Great tool, clear API',
      'Setup was slow and the build is broken',
      'It works',
      'Good defaults',
      'I hate waiting',
      'Clear errors, great retries',
    ];
    const results = await lastValueFrom(from(sentences).pipe(runInference(handler, { concurrent: 2 }), toArray()));
    for (const { example, inference } of results) {
      console.log(`${inference > 0 ? '+' : inference < 0 ? '-' : ' '}${Math.abs(inference)}  ${example}`);
    }
    const { retries, failedRequests, throttledMs } = handler.stats;
    console.log(
      `\n${results.length} sentences scored with ${requests()} HTTP requests ` +
        `(${failedRequests} failed and were retried ${retries} times; throttled ${throttledMs} ms).`,
    );
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
