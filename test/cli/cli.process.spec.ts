import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSmallLayersModel } from '../../scripts/fixtures/tfjs';
import type { RunSummary } from '../../src/cli/summarize';
import { featureRows, writeMlp } from './cliFixtures';
import { slowWeights } from './slowModel';

// The built binary as a process (dist/ is built by test/globalSetup.js): real signals, a real pipe whose reader goes
// away, a model load that lasts until the test says.
const BIN = join(__dirname, '..', '..', 'bin', 'rxjs-inference.js');

function start(args: readonly string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

describe('rxjs-inference as a process: signals and pipes', () => {
  let dir: string;
  let model: string;
  let input: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-process-'));
    model = writeMlp(dir).path;
    input = join(dir, 'in.jsonl');
    const lines = featureRows(100_000).map((features, i) => (i % 997 === 5 ? '{bad' : JSON.stringify({ features })));
    writeFileSync(input, lines.join('\n') + '\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('| head -1: the reader closes after one line; exit 141, quiet, and --summary-json is still written', async () => {
    const summaryJson = join(dir, 'pipe.json');
    const dead = join(dir, 'pipe.dead.jsonl');
    const options = ['--dead-letter', dead, '--summary-json', summaryJson, '--no-progress'];
    const run = start(['predict', '-m', model, '-i', input, ...options]);
    let first = '';
    run.child.stdout.on('data', (c: Buffer) => {
      if (first !== '') return;
      first = c.toString().split('\n')[0];
      run.child.stdout.destroy(); // what `head -1` does once it has its line
    });
    expect(await run.exited).toBe(141);
    expect(JSON.parse(first)).toMatchObject({ line: 1 });
    expect(run.stderr()).toBe('');
    const summary = JSON.parse(readFileSync(summaryJson, 'utf8')) as RunSummary;
    expect(summary.recordsIn).toBeGreaterThan(0);
    expect(summary.recordsOut + summary.recordsFailed + summary.recordsNotWritten).toBe(summary.recordsIn);
  });

  it('SIGINT while running: exit 130, and the summary accounts for every record read', async () => {
    const summaryJson = join(dir, 'sigint.json');
    const run = start(['predict', '-m', model, '-i', input, '--summary-json', summaryJson, '--no-progress']);
    let out = '';
    run.child.stdout.on('data', (c: Buffer) => {
      if (out === '') run.child.kill('SIGINT');
      out += c.toString();
    });
    expect(await run.exited).toBe(130);
    const summary = JSON.parse(readFileSync(summaryJson, 'utf8')) as RunSummary;
    expect(summary.recordsOut).toBe(out.split('\n').filter((l) => l !== '').length);
    expect(summary.recordsIn).toBeLessThan(100_000);
    expect(summary.recordsOut + summary.recordsFailed + summary.recordsNotWritten).toBe(summary.recordsIn);
    expect(run.stderr()).toContain('interrupted: stopped reading');
    expect(run.stderr()).toContain(`records     in ${summary.recordsIn}, out ${summary.recordsOut}`);
  });

  it('SIGTERM while the model loads: exit 130 at once with the summary; nothing read, no output file', async () => {
    tf.env().set('IS_TEST', true);
    await tf.setBackend('cpu');
    const slow = await writeSmallLayersModel(tf, join(dir, 'slow'));
    const weights = slowWeights(slow.modelJson);
    const [output, summaryJson] = [join(dir, 'never.jsonl'), join(dir, 'load.json')];
    const args = ['predict', '-m', slow.modelJson, '--backend', 'cpu', '-i', input, '-o', output];
    const run = start([...args, '--summary-json', summaryJson]);
    await weights.opened(); // the command is loading the model
    run.child.kill('SIGTERM');
    // The command answers while the load still waits for its weights...
    for (let waited = 0; !run.stderr().includes('records     in 0, out 0, failed 0'); waited += 20) {
      if (waited > 20_000) throw new Error(`no summary after SIGTERM; standard error: ${run.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(run.stderr()).toContain('interrupted while the model loaded: no record was read.');
    // ...then exits (Node joins its file-reading threads on exit: the pipe must give them their bytes).
    await weights.release();
    expect(await run.exited).toBe(130);
    expect(JSON.parse(readFileSync(summaryJson, 'utf8'))).toMatchObject({ recordsIn: 0, recordsNotWritten: 0 });
    expect(existsSync(output)).toBe(false);
  });
});
