import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mlp, prng } from '../../scripts/fixtures/onnx';
import type { BenchRow } from '../result';
import { fmt, interleaved, median } from '../stats';
import { row } from './onnx';

const FEATURES = 16;
// The repository root: two folders up from this file, or one from a bundle of the bench in bench/ (device runs).
const ROOT =
  [join(__dirname, '..', '..'), join(__dirname, '..')].find((dir) =>
    existsSync(join(dir, 'bin', 'rxjs-inference.js')),
  ) ?? join(__dirname, '..', '..');
/** Fewest interleaved pairs the row's medians are taken over. */
const MIN_REPS = 7;

/** `{"id","features":[16 numbers]}` per line, as `npm start`'s sample data. */
function writeRecords(path: string, count: number): void {
  const random = prng(2024);
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    const features = Array.from({ length: FEATURES }, () => Number((random() * 2 - 1).toFixed(4)));
    lines.push(JSON.stringify({ id: `rec-${i}`, features }));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

/** Runs `node args…` to its end; resolves to its wall time in ms (process start and model load included). */
function runNode(args: readonly string[]): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, maxBuffer: 1 << 24 }, (error, _stdout, stderr) => {
      if (error && error.code !== 0) reject(new Error(`${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(performance.now() - start);
    });
  });
}

/** Output lines of a file, each checked to be a JSON record with an `id` and an `output` of 4 numbers. */
function accountFor(path: string, count: number, who: string): void {
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  const ids = new Set<string>();
  for (const line of lines) {
    const record = JSON.parse(line) as { id: string; output: number[] };
    if (record.output.length !== 4) throw new Error(`main job (${who}): an output row of ${record.output.length}`);
    ids.add(record.id);
  }
  if (lines.length !== count || ids.size !== count) {
    throw new Error(`main job (${who}): ${lines.length} output lines, ${ids.size} distinct ids for ${count} records`);
  }
}

/**
 * The main job: `rxjs-inference predict` (the built command, default configuration) against the hand-written script
 * `bench/handwritten-predict.js`, on `records` JSON lines of 16 features through the MLP 16→32→4 that `npm start`
 * uses; both as whole processes (start-up and model load included), interleaved, every record accounted for.
 */
export async function mainJobScenario({
  records,
  reps,
  log,
}: {
  records: number;
  reps: number;
  log: (line: string) => void;
}): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-inference-bench-'));
  try {
    const model = join(dir, 'demo-mlp.onnx');
    writeFileSync(model, mlp([FEATURES, 32, 4], { name: 'demo-mlp' }).bytes);
    const input = join(dir, 'records.jsonl');
    writeRecords(input, records);
    const [libOut, handOut] = [join(dir, 'library.jsonl'), join(dir, 'hand.jsonl')];
    const cli = ['bin/rxjs-inference.js', 'predict', '--model', model, '--input', input, '--output', libOut];
    // Each run's output is removed first: a run that wrote nothing must not be credited with the last run's file.
    const library = async () => {
      rmSync(libOut, { force: true });
      const ms = await runNode([...cli, '--id-field', 'id', '--quiet']);
      accountFor(libOut, records, 'rxjs-inference predict');
      return (records / ms) * 1000;
    };
    const hand = async () => {
      rmSync(handOut, { force: true });
      const ms = await runNode(['bench/handwritten-predict.js', model, input, handOut]);
      accountFor(handOut, records, 'hand-written');
      return (records / ms) * 1000;
    };
    // Whole processes on a shared machine swing by tens of percent: at least 7 interleaved pairs for the medians.
    const runs = Math.max(reps, MIN_REPS);
    const values = await interleaved({ hand, library }, { reps: runs, warmup: 1 });
    const [handRate, libRate] = [median(values.hand), median(values.library)];
    log(
      `  main job: hand-written ${fmt(records / handRate, 2)} s, rxjs-inference predict ${fmt(records / libRate, 2)} s ` +
        `for ${fmt(records)} records`,
    );
    return [
      row(
        'MJ',
        `main job: rxjs-inference predict vs the hand-written script, ${fmt(records)} records`,
        libRate,
        handRate,
        0.9,
        {
          unit: 'records/s',
          note:
            `whole processes (start-up and model load included), median of ${runs}, interleaved; MLP 16→32→4, ` +
            `16 features per JSON line; baseline bench/handwritten-predict.js (readline → JSON.parse → batches of 256 → ` +
            `session.run → JSON.stringify per row); every record's output line checked on both sides; stretch ≥ 1.0×`,
        },
      ),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
