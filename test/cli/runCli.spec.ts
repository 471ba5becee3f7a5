import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { corruptModel, mlp, twoInputsTwoOutputs } from '../../scripts/fixtures/onnx';
import { createHandler } from '../../src/cli/loadModelSignature';
import { runCli } from '../../src/cli/runCli';
import { onnxCpuMaxBatchSize } from '../../src/handlers/onnx/onnxCpuMaxBatchSize';
import { OnnxWorkerModelHandler } from '../../src/handlers/onnx/worker/OnnxWorkerModelHandler';
import { CONTROL_CHARACTERS, featureRows, jsonLines, memoryIO, reference, writeMlp } from './cliFixtures';

// The command run in-process (same code as the binary, which test/cli/cli.e2e.spec.ts spawns): streams in memory.
describe('runCli (in-process)', () => {
  let dir: string;
  let model: string;
  let fixture: ReturnType<typeof writeMlp>['fixture'];
  const rows = featureRows(300);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-run-'));
    ({ path: model, fixture } = writeMlp(dir));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('skips a UTF-8 byte order mark; a lone CR is not a line break, so line numbers match wc -l', async () => {
    const lines = rows.slice(0, 4).map((features, i) => JSON.stringify({ id: `r${i}`, features }));
    // Line 2 holds a lone CR inside it: one line (as for wc -l), a bad record, named as line 2.
    const text = '\ufeff' + lines[0] + '\n' + lines[1] + '\r' + lines[2] + '\r\n' + lines[3] + '\n';
    const input = file('bom.jsonl', text);
    const dead = join(dir, 'bom-dead.jsonl');
    const { io, stdout } = memoryIO();
    const code = await runCli(
      ['predict', '-m', model, '-i', input, '--id-field', 'id', '--dead-letter', dead, '-q'],
      io,
    );
    expect(code).toBe(1);
    expect(jsonLines<{ line: number; id: string }>(stdout()).map((r) => [r.line, r.id])).toEqual([
      [1, 'r0'],
      [3, 'r3'],
    ]);
    expect(jsonLines<{ line: number }>(readFileSync(dead, 'utf8')).map((r) => r.line)).toEqual([2]);
  });

  /** Runs `predict` on three records with `flags`; the options of every session onnxruntime was asked to create. */
  async function inlineSessionOptions(flags: readonly string[]): Promise<unknown[]> {
    const ort = (await import('onnxruntime-node')).InferenceSession;
    const create = jest.spyOn(ort, 'create');
    try {
      const input = file(
        'sessions.jsonl',
        rows
          .slice(0, 3)
          .map((features) => JSON.stringify({ features }))
          .join('\n'),
      );
      const { io, stdout } = memoryIO();
      expect(await runCli(['predict', '-m', model, '-i', input, ...flags, '-q'], io)).toBe(0);
      const results = jsonLines<{ output: number[] }>(stdout());
      expect(results).toHaveLength(3);
      results.forEach((r, i) => r.output.forEach((v, k) => expect(v).toBeCloseTo(reference(fixture, rows[i])[k], 5)));
      expect(create).toHaveBeenCalled();
      return create.mock.calls.map(([, options]) => options);
    } finally {
      create.mockRestore();
    }
  }

  it("asks onnxruntime for an inline session whose idle threads block instead of spinning (the main thread's cores)", async () => {
    for (const options of await inlineSessionOptions([])) {
      expect(options).toMatchObject({ extra: { session: { intra_op: { allow_spinning: '0' } } } });
      expect(options).not.toHaveProperty('intraOpNumThreads');
    }
  });

  it('--threads sets the intra-op threads of the inline session (idle threads still blocking) and of every worker', async () => {
    for (const options of await inlineSessionOptions(['--threads', '3'])) {
      expect(options).toMatchObject({
        intraOpNumThreads: 3,
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
    }
    // The workers create their sessions in their own threads; the handler the command builds passes the count on, and
    // its default batch bound follows it (128 rows per thread, 512–2048), where without --threads each worker gets its
    // share of the cores.
    const log = jest.fn();
    const many = await createHandler({ model, workers: 2, threads: 16, log, verbose: false });
    expect(many.handler).toBeInstanceOf(OnnxWorkerModelHandler);
    expect(many.handler.batchConfig().maxBatchSize).toBe(onnxCpuMaxBatchSize(16));
    const one = await createHandler({ model, workers: 2, threads: 1, log, verbose: false });
    expect(one.handler.batchConfig().maxBatchSize).toBe(onnxCpuMaxBatchSize(1));
    expect(onnxCpuMaxBatchSize(16)).not.toBe(onnxCpuMaxBatchSize(1));
    expect(log).not.toHaveBeenCalled();
  });

  it('exits 2 before reading when --shape contradicts the model (it would dead-letter every record)', async () => {
    const input = file('shape.jsonl', rows.map((features) => JSON.stringify({ features })).join('\n') + '\n');
    const { io, stdout, stderr } = memoryIO();
    const code = await runCli(['predict', '-m', model, '-i', input, '--shape', '2,4'], io);
    expect(code).toBe(2);
    expect(stdout()).toBe('');
    expect(stderr()).toMatch(/--shape `2,4`: the model's input `\w+` takes \[8\] per record; \[2, 4\] can never fit/);
  });

  it('exits quietly with 141 (128 + SIGPIPE) when the reader of standard output goes away (| head -1)', async () => {
    const input = file('pipe.jsonl', rows.map((features) => JSON.stringify({ features })).join('\n') + '\n');
    const { io, stderr } = memoryIO();
    let written = 0;
    const stdout = new Writable({
      write(_chunk, _encoding, callback) {
        // The first chunk is taken; then the reader is gone, as for `| head -1`.
        if (written++ === 0) return callback();
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' }));
      },
    });
    const code = await runCli(['predict', '-m', model, '-i', input, '--max-batch-size', '4'], { ...io, stdout });
    expect(code).toBe(141);
    expect(written).toBeGreaterThan(1);
    expect(stderr()).not.toMatch(/EPIPE|error/i);
  });

  it('scores a file: one output per line in order, matching the reference; bad lines become dead letters', async () => {
    const lines = rows.map((features, i) => JSON.stringify({ id: `r${i}`, features }));
    lines.splice(10, 0, '{"id": "broken", "features": [1, 2', '', JSON.stringify({ id: 'short', features: [1, 2] }));
    const input = file('in.jsonl', lines.join('\n') + '\n');
    const [output, dead, summary] = ['out.jsonl', 'dead.jsonl', 'summary.json'].map((n) => join(dir, n));
    const { io, stderr } = memoryIO();
    const code = await runCli(
      [
        'predict',
        '-m',
        model,
        '-i',
        input,
        '-o',
        output,
        '--dead-letter',
        dead,
        '--id-field',
        'id',
        '--summary-json',
        summary,
        '--max-batch-size',
        '16',
      ],
      io,
    );
    expect(code).toBe(1);
    const results = jsonLines<{ line: number; id: string; output: number[] }>(readFileSync(output, 'utf8'));
    expect(results).toHaveLength(300);
    results.forEach((r, i) => {
      expect(r.id).toBe(`r${i}`);
      expect(r.line).toBe(i < 10 ? i + 1 : i + 4);
      r.output.forEach((v, k) => expect(v).toBeCloseTo(reference(fixture, rows[i])[k], 5));
    });
    const letters = jsonLines(readFileSync(dead, 'utf8'));
    expect(letters).toEqual([
      expect.objectContaining({
        line: 11,
        id: null,
        stage: 'preprocess',
        reason: expect.stringMatching(/^malformed JSON/),
      }),
      expect.objectContaining({
        line: 13,
        id: 'short',
        reason: expect.stringContaining('expects [8] per record, got [2]'),
      }),
    ]);
    const s = JSON.parse(readFileSync(summary, 'utf8'));
    expect(s).toMatchObject({ recordsIn: 302, recordsOut: 300, recordsFailed: 2, blankLines: 1, device: 'cpu' });
    expect(s.metrics.gauges['RunInference/model_device_cpu']).toBe(1);
    expect(s.batches).toBeGreaterThanOrEqual(300 / 16);
    expect(s.metrics.counters['RunInference/num_inferences']).toBe(300);
    expect(stderr()).toContain('records     in 302, out 300, failed 2, blank lines skipped 1');
    expect(stderr()).toContain('device      cpu');
    expect(stderr()).not.toMatch(CONTROL_CHARACTERS);
  });

  it('reads standard input and writes standard output; argmax with the id; exit 0', async () => {
    const { io, stdout, stderr } = memoryIO();
    const running = runCli(['predict', '--model', model, '--output-format', 'argmax', '-q'], io);
    for (const features of rows.slice(0, 20)) io.stdin.write(JSON.stringify(features) + '\n');
    io.stdin.end();
    expect(await running).toBe(0);
    const results = jsonLines<{ line: number; class: number; score: number }>(stdout());
    expect(results.map((r) => r.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    results.forEach((r, i) => {
      const expected = reference(fixture, rows[i]);
      expect(r.class).toBe(expected.indexOf(Math.max(...expected)));
      expect(r.score).toBeCloseTo(Math.max(...expected), 5);
    });
    expect(stderr()).toBe('');
  });

  it('maps several inputs by name and prints every output with --output-format full', async () => {
    const two = twoInputsTwoOutputs();
    const path = join(dir, 'two.onnx');
    writeFileSync(path, two.bytes);
    const samples = two.sample(5);
    const input = file(
      'two.jsonl',
      samples
        .map((s) =>
          JSON.stringify({ a: Array.from(s.a.data as Float32Array), right: Array.from(s.b.data as Float32Array) }),
        )
        .join('\n'),
    );
    const { io, stdout } = memoryIO();
    expect(
      await runCli(
        ['predict', '-m', path, '-i', input, '--input-field', 'b=right', '--output-format', 'full', '-q'],
        io,
      ),
    ).toBe(0);
    jsonLines<{ model: string; outputs: Record<string, { dims: number[]; data: (number | string)[] }> }>(
      stdout(),
    ).forEach((r, i) => {
      const expected = two.forward(samples[i]);
      expect(r.model).toBe(path);
      expect(r.outputs.label).toEqual({
        dtype: 'int64',
        dims: [],
        data: [Number((expected.label.data as BigInt64Array)[0])],
      });
      r.outputs.logits.data.forEach((v, k) => expect(v).toBeCloseTo((expected.logits.data as Float32Array)[k], 5));
    });
    const usage = memoryIO();
    expect(await runCli(['predict', '-m', path, '-i', input, '--input-field', 'right'], usage.io)).toBe(2);
    expect(usage.stderr()).toContain('the model has 2 inputs (`a`, `b`)');
  });

  it.each([
    [[], /Usage: rxjs-inference/],
    [['predict'], /required option '-m, --model <file>' not specified/],
    [['predict', '-m', 'x.onnx', '--bogus'], /unknown option '--bogus'/],
    [['predict', '-m', 'x.onnx', '--top-k', '0'], /expected an integer ≥ 1, got `0`/],
    [['predict', '-m', 'x.onnx', '--threads', '0'], /expected an integer ≥ 1, got `0`/],
    [['predict', '-m', 'x.onnx', '--threads', '1.5'], /expected an integer ≥ 1, got `1.5`/],
    [['predict', '-m', 'x.onnx', '--output-format', 'xml'], /Allowed choices are full, array, argmax, topk/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('exits 2 on a usage error: %j', async (argv, message) => {
    const { io, stderr } = memoryIO();
    expect(await runCli(argv, io)).toBe(2);
    expect(stderr()).toMatch(message);
  });

  it('exits 2 when the input is missing or the model cannot load, naming the file', async () => {
    const missing = memoryIO();
    expect(await runCli(['predict', '-m', model, '-i', join(dir, 'nope.jsonl')], missing.io)).toBe(2);
    expect(missing.stderr()).toContain('nope.jsonl`: no such file.');
    const corrupt = file('corrupt.onnx', '');
    writeFileSync(corrupt, corruptModel());
    const bad = memoryIO();
    expect(await runCli(['predict', '-m', corrupt, '-i', join(dir, 'in.jsonl')], bad.io)).toBe(2);
    expect(bad.stderr()).toMatch(/cannot load model `.*corrupt\.onnx`: Cannot load ONNX model/);
    const noOutput = memoryIO();
    expect(await runCli(['predict', '-m', model, '--output-name', 'nope'], noOutput.io)).toBe(2);
    expect(noOutput.stderr()).toContain('--output-name `nope`: the model has no such output; its outputs: `output`.');
    const batches = memoryIO();
    expect(await runCli(['predict', '-m', model, '--min-batch-size', '50', '--max-batch-size', '10'], batches.io)).toBe(
      2,
    );
    expect(batches.stderr()).toContain(
      'invalid options: Expected `minBatchSize` (50) to be at most `maxBatchSize` (10).',
    );
    const tfjsOption = memoryIO();
    expect(await runCli(['predict', '-m', model, '--backend', 'wasm'], tfjsOption.io)).toBe(2);
    expect(tfjsOption.stderr()).toContain('apply to TensorFlow.js models only');
  });

  it('prints help with the exit codes (exit 0) and the version', async () => {
    const help = memoryIO();
    expect(await runCli(['predict', '--help'], help.io)).toBe(0);
    expect(help.stdout()).toContain('Exit codes:');
    expect(help.stdout()).toContain('2    usage error, unreadable input or output, model load failure');
    const version = memoryIO();
    expect(await runCli(['--version'], version.io, '1.2.3')).toBe(0);
    expect(version.stdout()).toBe('1.2.3\n');
  });

  it('without --dead-letter, describes failures on standard error (at most 20, then a count)', async () => {
    const input = file('bad.jsonl', Array.from({ length: 25 }, (_, i) => `[${i}]`).join('\n'));
    const { io, stderr } = memoryIO();
    expect(await runCli(['predict', '-m', model, '-i', input, '-o', join(dir, 'none.jsonl')], io)).toBe(1);
    expect(stderr().match(/rxjs-inference: line \d+: preprocess failed: input `input`: wrong shape/g)).toHaveLength(20);
    expect(stderr()).toContain('... and 5 more failed records (use --dead-letter FILE to keep them all).');
  });

  it('prints plain progress lines when standard error is not a terminal', async () => {
    const { io, stderr } = memoryIO(false);
    const running = runCli(['predict', '-m', model, '--progress-interval-ms', '20'], io);
    io.stdin.write(JSON.stringify(rows[0]) + '\n');
    await new Promise((r) => setTimeout(r, 120));
    io.stdin.end(JSON.stringify(rows[1]) + '\n');
    expect(await running).toBe(0);
    expect(stderr()).toMatch(/^rxjs-inference: \d+ lines, 0 failed, \d+ rec\/s$/m);
    expect(stderr()).not.toMatch(CONTROL_CHARACTERS);
  });

  it('pauses reading while the output is blocked (backpressure), then finishes everything', async () => {
    const { io } = memoryIO();
    const pending: (() => void)[] = [];
    let written = '';
    const slowStdout = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.toString();
        pending.push(callback); // held: the consumer does not read until released
      },
    });
    const line = JSON.stringify(rows[0]) + '\n';
    const total = 20_000;
    const running = runCli(['predict', '-m', model, '-q', '--max-in-flight', '200', '--output-format', 'argmax'], {
      ...io,
      stdout: slowStdout,
    });
    // Written as a pipe delivers it, in chunks (readline splits a chunk it has already received even when paused).
    for (let i = 0; i < total; i += 100) io.stdin.write(line.repeat(100));
    io.stdin.end();
    await new Promise((r) => setTimeout(r, 300));
    // Output blocked after the first chunk: the command stopped reading, most of the input is still unread.
    const consumedLines = (total * line.length - io.stdin.readableLength) / line.length;
    expect(consumedLines).toBeLessThan(total / 4);
    expect(jsonLines(written).length).toBeLessThan(total / 4);
    const release = setInterval(() => pending.splice(0).forEach((callback) => callback()), 1);
    try {
      expect(await running).toBe(0);
    } finally {
      clearInterval(release);
    }
    const results = jsonLines<{ line: number }>(written);
    expect(results).toHaveLength(total);
    expect(results[total - 1].line).toBe(total);
  });

  it('shows no progress when the output goes to the same terminal, and says it reads a terminal', async () => {
    const { io, stderr } = memoryIO(true);
    const running = runCli(['predict', '-m', model, '--progress-interval-ms', '5'], {
      ...io,
      stdin: Object.assign(io.stdin, { isTTY: true }),
      stdout: Object.assign(io.stdout, { isTTY: true }),
    });
    io.stdin.write(JSON.stringify(rows[0]) + '\n');
    await new Promise((r) => setTimeout(r, 50));
    io.stdin.end();
    expect(await running).toBe(0);
    expect(stderr()).toMatch(
      /^rxjs-inference: reading JSON lines from standard input \(end with Ctrl-D.*\nrxjs-inference: done in/,
    );
  });

  it('stops on interrupt (exit 130), keeping what was done', async () => {
    const controller = new AbortController();
    const { io, stdout, stderr } = memoryIO();
    const running = runCli(['predict', '-m', model], { ...io, signal: controller.signal });
    io.stdin.write(JSON.stringify(rows[0]) + '\n');
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    expect(await running).toBe(130);
    expect(jsonLines(stdout())).toHaveLength(1);
    expect(stderr()).toContain('interrupted');
  });

  it('--watch: a newer model file replaces the model while the job runs', async () => {
    const models = join(dir, 'models');
    const v1 = writeMlp(dir, 'v1', 1);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(models, { recursive: true });
    copyFileSync(v1.path, join(models, 'v1.onnx'));
    utimesSync(join(models, 'v1.onnx'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const { io, stdout, stderr } = memoryIO();
    const running = runCli(
      ['predict', '-m', join(models, 'v1.onnx'), '--watch', join(models, '*.onnx'), '--watch-interval-ms', '30', '-q'],
      io,
    );
    io.stdin.write(JSON.stringify(rows[0]) + '\n');
    await waitFor(() => jsonLines(stdout()).length === 1);
    const v2 = writeMlp(models, 'v2', 2);
    await new Promise((r) => setTimeout(r, 1500)); // the watch's next polls and the load, with room for a loaded CI machine
    io.stdin.end(JSON.stringify(rows[1]) + '\n');
    expect(await running).toBe(0);
    const [first, second] = jsonLines<{ model: string; output: number[] }>(stdout());
    expect(first.model).toBe(join(models, 'v1.onnx'));
    first.output.forEach((v, k) => expect(v).toBeCloseTo(reference(v1.fixture, rows[0])[k], 5));
    expect(second.model).toBe(v2.path);
    second.output.forEach((v, k) => expect(v).toBeCloseTo(reference(v2.fixture, rows[1])[k], 5));
    expect(stderr()).toBe('');
  });
});

describe('runCli inference failures', () => {
  it('dead-letters records the model rejects (stage inference), tied to their lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-infer-'));
    try {
      const rows = featureRows(3);
      const first = writeMlp(dir, 'v1', 1);
      utimesSync(first.path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      const { io, stdout, stderr } = memoryIO();
      const dead = join(dir, 'dead.jsonl');
      const running = runCli(
        ['predict', '-m', first.path, '--watch', join(dir, '*.onnx'), '--watch-interval-ms', '30', '-q'].concat([
          '--dead-letter',
          dead,
          '--id-field',
          'id',
        ]),
        io,
      );
      io.stdin.write(JSON.stringify({ id: 'a', features: rows[0] }) + '\n');
      await waitFor(() => jsonLines(stdout()).length === 1);
      // A refreshed model that takes 6 features instead of 8: the line is read with the first model's signature,
      // so the new model rejects it in the batch.
      writeFileSync(join(dir, 'v2.onnx'), mlp([6, 4], { name: 'v2' }).bytes);
      await new Promise((r) => setTimeout(r, 1500)); // the watch's next polls and the load, with room for a loaded CI machine
      io.stdin.end([1, 2].map((i) => JSON.stringify({ id: `b${i}`, features: rows[i] })).join('\n'));
      expect(await running).toBe(1);
      expect(jsonLines(stdout())).toHaveLength(1);
      expect(jsonLines(readFileSync(dead, 'utf8'))).toEqual([
        expect.objectContaining({ line: 2, id: 'b1', stage: 'inference', error: 'InvalidExampleError' }),
        expect.objectContaining({ line: 3, id: 'b2', stage: 'inference', error: 'InvalidExampleError' }),
      ]);
      expect(jsonLines<{ reason: string }>(readFileSync(dead, 'utf8'))[0].reason).toMatch(/input/);
      expect(stderr()).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
