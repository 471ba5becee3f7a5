import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSmallLayersModel } from '../../scripts/fixtures/tfjs';
import { runCli } from '../../src/cli/runCli';
import type { RunSummary } from '../../src/cli/summarize';
import { featureRows, jsonLines, memoryIO, writeMlp } from './cliFixtures';
import { slowWeights } from './slowModel';
import { terminalScreen } from './terminalScreen';

// The command in-process around its edges: slow model loads (a TF.js model whose weights are a named pipe: its
// asynchronous load lasts until the test writes them), signals while loading and while running, and the progress
// bar sharing standard error with failure lines.
describe('runCli: slow loads, interrupts, the progress bar', () => {
  let dir: string;

  beforeAll(async () => {
    tf.env().set('IS_TEST', true);
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'cli-interrupt-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function slowModel(name: string) {
    const model = await writeSmallLayersModel(tf, join(dir, name));
    return { ...model, ...slowWeights(model.modelJson) };
  }

  const rows = [
    [0.1, 0.2, 0.3, 0.4],
    [1, -1, 0.5, 0],
    [0, 0, 0, 1],
  ];

  it('--timeout-ms bounds batches, not the model load: a load slower than it still serves every record', async () => {
    const model = await slowModel('slow-load');
    const { io, stdout, stderr } = memoryIO();
    const running = runCli(['predict', '-m', model.modelJson, '--backend', 'cpu', '--timeout-ms', '50', '-q'], io);
    io.stdin.end(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await model.opened();
    await new Promise((r) => setTimeout(r, 300)); // six times the batch bound
    await model.release();
    expect(await running).toBe(0);
    expect(stderr()).toBe('');
    const results = jsonLines<{ output: number[] }>(stdout());
    expect(results).toHaveLength(3);
    results.forEach((r, i) => r.output.forEach((v, k) => expect(v).toBeCloseTo(model.reference(rows[i])[k], 5)));
  });

  it('a signal while the model loads ends at once: exit 130, the summary, no record read, no output opened', async () => {
    const model = await slowModel('interrupted-load');
    const [output, summaryJson] = [join(dir, 'never.jsonl'), join(dir, 'interrupted-load.json')];
    const controller = new AbortController();
    const { io, stdout, stderr } = memoryIO();
    const running = runCli(
      ['predict', '-m', model.modelJson, '--backend', 'cpu', '-o', output, '--summary-json', summaryJson],
      { ...io, signal: controller.signal },
    );
    io.stdin.end(JSON.stringify(rows[0]) + '\n');
    await model.opened();
    controller.abort();
    // The load still waits for its weights: the command has not.
    expect(await running).toBe(130);
    expect(stderr()).toContain('rxjs-inference: interrupted while the model loaded: no record was read.');
    expect(stderr()).toContain('records     in 0, out 0, failed 0');
    const summary = JSON.parse(readFileSync(summaryJson, 'utf8')) as RunSummary;
    expect(summary).toMatchObject({ recordsIn: 0, recordsOut: 0, recordsFailed: 0, recordsNotWritten: 0 });
    expect(stdout()).toBe('');
    await model.release(); // the load ends, and its model is released
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(output)).toBe(false);
  });

  it('serve: a signal while the model loads ends at once with exit 130, before listening', async () => {
    const model = await slowModel('serve-load');
    const controller = new AbortController();
    const { io, stdout, stderr } = memoryIO();
    const running = runCli(['serve', '-m', model.modelJson, '--backend', 'cpu', '--port', '0', '--timeout-ms', '50'], {
      ...io,
      signal: controller.signal,
    });
    await model.opened();
    controller.abort();
    expect(await running).toBe(130);
    expect(stderr()).toContain('rxjs-inference: interrupted while the model loaded: not serving.');
    expect(stdout()).toBe(''); // never listened
    await model.release();
  });

  it('after an interrupt the summary accounts for every record read: out + failed + not written = in', async () => {
    const { path } = writeMlp(dir);
    const summaryJson = join(dir, 'accounting.json');
    const controller = new AbortController();
    const { io, stdout } = memoryIO();
    const running = runCli(['predict', '-m', path, '--summary-json', summaryJson, '-q', '--max-batch-size', '64'], {
      ...io,
      signal: controller.signal,
    });
    const lines = featureRows(20_000).map((features, i) => (i % 1000 === 7 ? '{bad' : JSON.stringify({ features })));
    io.stdout.once('data', () => controller.abort());
    io.stdin.write(lines.join('\n') + '\n');
    expect(await running).toBe(130);
    const summary = JSON.parse(readFileSync(summaryJson, 'utf8')) as RunSummary;
    expect(summary.recordsOut).toBe(jsonLines(stdout()).length);
    expect(summary.recordsIn).toBeGreaterThan(0);
    expect(summary.recordsOut + summary.recordsFailed + summary.recordsNotWritten).toBe(summary.recordsIn);
  });

  it('on a terminal without --dead-letter, failure lines go above the progress bar, never on its line', async () => {
    const { path } = writeMlp(dir, 'tty');
    const lines = featureRows(300).map((features) => JSON.stringify({ features }));
    for (const at of [10, 150, 290]) lines[at] = '{"features": [1, 2,';
    const input = join(dir, 'tty.jsonl');
    writeFileSync(input, lines.join('\n') + '\n');
    const { io, stderr } = memoryIO(true);
    Object.assign(io.stderr, { columns: 120 });
    const code = await runCli(['predict', '-m', path, '-i', input, '-o', join(dir, 'tty.out.jsonl')], io);
    expect(code).toBe(1);
    const screen = terminalScreen(stderr());
    const failures = screen.filter((l) => l.includes('preprocess failed'));
    expect(failures).toEqual(
      [11, 151, 291].map((n) => expect.stringMatching(`^rxjs-inference: line ${n}: preprocess failed: `)),
    );
    // The bar is drawn on its own line (redrawn in place), and the summary after it is whole.
    const bars = screen.filter((l) => l.startsWith('predict |'));
    expect(bars).toHaveLength(1);
    expect(bars[0]).toMatch(/^predict \|.*\| 100% \| 300\/300 lines \| \d+ rec\/s \| 3 failed \| ETA/);
    const done = screen.findIndex((l) => l.startsWith('rxjs-inference: done in'));
    expect(done).toBeGreaterThan(screen.indexOf(bars[0]));
    expect(screen[done + 1]).toBe('  records     in 300, out 297, failed 3');
  });
});
