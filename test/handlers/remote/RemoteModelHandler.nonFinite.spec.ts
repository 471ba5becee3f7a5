import { isLeft, isRight } from 'fp-ts/lib/Either';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { from, lastValueFrom, toArray } from 'rxjs';
import { InvalidExampleError } from '../../../src/core/errors';
import { HttpError } from '../../../src/handlers/remote/HttpError';
import { RemoteModelHandler } from '../../../src/handlers/remote/RemoteModelHandler';
import { rejectNonFinite } from '../../../src/handlers/remote/rejectNonFinite';
import { runInference } from '../../../src/operators/runInference';
import { withExceptionHandling } from '../../../src/operators/withExceptionHandling';

// The NaN/Infinity rule of every handler, for remote models: JSON would send NaN and ±Infinity as null. The bodies
// go over real HTTP (127.0.0.1) to a server that records what it received.
describe('RemoteModelHandler: NaN and ±Infinity are rejected before any request (allowNonFinite: true sends them)', () => {
  let server: Server;
  let url: string;
  const bodies: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        const { inputs } = JSON.parse(body) as { inputs: unknown[] };
        res.end(JSON.stringify({ outputs: inputs.map((_, i) => i) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (bodies.length = 0));

  const handler = (allowNonFinite?: boolean) =>
    new RemoteModelHandler<unknown, number>({
      request: async (batch, { signal }) => {
        const response = await fetch(url, {
          method: 'POST',
          body: JSON.stringify({
            inputs: batch.map((x) => (ArrayBuffer.isView(x) ? Array.from(x as Float32Array) : x)),
          }),
          signal,
        });
        if (!response.ok) throw await HttpError.fromResponse(response);
        return ((await response.json()) as { outputs: number[] }).outputs;
      },
      throttle: false,
      ...(allowNonFinite !== undefined && { allowNonFinite }),
    });

  const elements = [
    [1, 2],
    [1, NaN],
    { features: Float32Array.of(0, 0.5, Infinity) },
    3,
    { a: { b: -Infinity } },
    { rows: [[1], [2, NaN]] },
    -Infinity,
  ];

  it('each bad element fails alone (stage preprocess), naming the field and the index; the good ones are sent', async () => {
    const out = await lastValueFrom(
      from(elements).pipe(withExceptionHandling(runInference(handler(), { metrics: false })), toArray()),
    );
    expect(out.map((r) => isRight(r))).toEqual([true, false, false, true, false, false, false]);
    const failures = out.flatMap((r) => (isLeft(r) ? [r.left] : []));
    const tail = '(set `allowNonFinite: true` to accept NaN and Infinity).';
    expect(failures.map((f) => [f.stage, f.error.name, f.error.message])).toEqual([
      ['preprocess', 'InvalidExampleError', `The element: expected a finite number, got \`NaN\` at index 1 ${tail}`],
      [
        'preprocess',
        'InvalidExampleError',
        `Field \`features\`: expected a finite number, got \`Infinity\` at index 2 ${tail}`,
      ],
      ['preprocess', 'InvalidExampleError', `Field \`a.b\`: expected a finite number, got \`-Infinity\` ${tail}`],
      [
        'preprocess',
        'InvalidExampleError',
        `Field \`rows[1]\`: expected a finite number, got \`NaN\` at index 1 ${tail}`,
      ],
      ['preprocess', 'InvalidExampleError', `The element: expected a finite number, got \`-Infinity\` ${tail}`],
    ]);
    expect((failures[1].error as InvalidExampleError).field).toBe('features');
    expect(bodies.join('')).not.toContain('null');
    expect(bodies.flatMap((b) => (JSON.parse(b) as { inputs: unknown[] }).inputs)).toEqual([[1, 2], 3]);
  });

  it('runs after the user preprocess functions: it checks what is sent', async () => {
    const divided = handler().withPreprocessFn((x: number) => [1 / x]);
    const out = await lastValueFrom(
      from([2, 0]).pipe(withExceptionHandling(runInference(divided, { metrics: false })), toArray()),
    );
    expect(out.map((r) => (isLeft(r) ? [r.left.stage, r.left.index] : 'ok'))).toEqual(['ok', ['preprocess', 1]]);
  });

  it('allowNonFinite: true sends them as they are (JSON makes them null)', async () => {
    const out = await lastValueFrom(
      from(elements).pipe(withExceptionHandling(runInference(handler(true), { metrics: false })), toArray()),
    );
    expect(out.every((r) => isRight(r))).toBe(true);
    expect(bodies.join('')).toContain('[1,null]');
    expect(() => handler('yes' as unknown as boolean)).toThrow(/allowNonFinite/);
  });

  it('follows arrays and plain objects only, at most 64 deep, and cycles once', () => {
    const cycle: Record<string, unknown> = { x: 1 };
    cycle.self = cycle;
    expect(rejectNonFinite(cycle)).toBe(cycle);
    const date = new Date(NaN);
    expect(rejectNonFinite(date)).toBe(date);
    const ints = Int32Array.of(1, 2);
    expect(rejectNonFinite(ints)).toBe(ints);
    let deep: unknown = NaN;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(rejectNonFinite(deep)).toBe(deep);
    expect(() => rejectNonFinite(['a', { b: [Float64Array.of(NaN)] }])).toThrow(
      'Field `[1].b[0]`: expected a finite number, got `NaN` at index 0',
    );
  });
});
