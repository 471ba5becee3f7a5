// `npm start`: builds a sample ONNX model and a JSON-lines data set into .demo/ (no download), then runs the BUILT
// command on them — `node bin/rxjs-inference.js predict ...` — and shows where everything went.
//
//   npm start                 (= npm run build && tsx scripts/demo.ts)
//   npx tsx scripts/demo.ts   (when dist/ is already built)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { mlp, prng } from './fixtures/onnx';

const ROOT = resolve(__dirname, '..');
const DIR = join(ROOT, '.demo');
const RECORDS = 5000;
const FEATURES = 16;
const CLASSES = 4;

/** The sample data: `{"id","features":[16 numbers]}` per line, deterministic, with a few deliberately bad lines. */
function writeData(path: string): number {
  const random = prng(2024);
  const lines: string[] = [];
  for (let i = 1; i <= RECORDS; i++) {
    const features = Array.from({ length: FEATURES }, () => Number((random() * 2 - 1).toFixed(4)));
    lines.push(JSON.stringify({ id: `rec-${String(i).padStart(5, '0')}`, features }));
  }
  // Bad lines, to show the dead-letter file: malformed JSON, a wrong length, a non-numeric value.
  lines.splice(1000, 0, '{"id": "broken", "features": [0.1, 0.2');
  lines.splice(2500, 0, JSON.stringify({ id: 'too-short', features: [0.5, 0.25, 0.125] }));
  lines.splice(4000, 0, JSON.stringify({ id: 'not-a-number', features: [...Array(FEATURES - 1).fill(0), 'x'] }));
  writeFileSync(path, lines.join('\n') + '\n');
  return lines.length;
}

function main(): void {
  const bin = join(ROOT, 'bin', 'rxjs-inference.js');
  if (!existsSync(join(ROOT, 'dist', 'cjs', 'cli', 'main.js'))) {
    console.error('demo: dist/ is not built: run `npm run build` first (npm start does it).');
    process.exit(2);
  }
  mkdirSync(DIR, { recursive: true });
  const fixture = mlp([FEATURES, 32, CLASSES], { name: 'demo-mlp' });
  const model = join(DIR, 'demo-mlp.onnx');
  writeFileSync(model, fixture.bytes);
  const data = join(DIR, 'data.jsonl');
  const lines = writeData(data);
  const output = join(DIR, 'predictions.jsonl');
  const deadLetter = join(DIR, 'dead-letter.jsonl');
  const summary = join(DIR, 'summary.json');
  const show = (p: string): string => relative(process.cwd(), p) || '.';

  console.log(`demo: model ${show(model)} (MLP ${FEATURES} → 32 → ${CLASSES}), data ${show(data)} (${lines} lines)`);
  const args = [
    bin,
    'predict',
    '--model',
    model,
    '--input',
    data,
    '--output',
    output,
    '--dead-letter',
    deadLetter,
    '--id-field',
    'id',
    '--output-format',
    'topk',
    '--top-k',
    '2',
    '--softmax',
    '--precision',
    '4',
    '--summary-json',
    summary,
    '--verbose',
  ];
  console.log(`demo: node ${args.map((a) => (a.startsWith('/') ? show(a) : a)).join(' ')}\n`);
  const run = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: ROOT });
  // Exit code 1 is expected: the bad lines were dead-lettered.
  console.log(`\ndemo: exit code ${run.status} (0 = all good, 1 = some records dead-lettered, 2 = usage/model error)`);
  if (run.status !== 0 && run.status !== 1) process.exit(run.status ?? 2);

  const head = (path: string, n: number) => readFileSync(path, 'utf8').split('\n').filter(Boolean).slice(0, n);
  console.log(`\ndemo: predictions in ${show(output)}, first lines:`);
  for (const line of head(output, 3)) console.log(`  ${line}`);
  console.log(`\ndemo: dead letters in ${show(deadLetter)}:`);
  for (const line of head(deadLetter, 10)) console.log(`  ${line}`);
  const s = JSON.parse(readFileSync(summary, 'utf8')) as { recordsOut: number; recordsFailed: number };
  console.log(`\ndemo: summary in ${show(summary)}: ${s.recordsOut} scored, ${s.recordsFailed} dead-lettered.`);
}

main();
