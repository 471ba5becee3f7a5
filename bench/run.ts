// `npm run bench`: measures the figures of issue 8 and writes bench/results.md and bench/results.json.
// Run with `npm run bench` (builds first). Options: --only P1,P2,P5 (scenario groups: onnx = P1/P3/P4, overhead = P2/scaling, tfjs = P5), --quick (fewer
// repetitions and elements, for a smoke run). BENCH_FROM=src benchmarks the TypeScript sources instead of dist/cjs.
import { loadavg } from 'node:os';
import { loadLibrary } from './lib';
import { machine, table, writeResults } from './report';
import type { BenchRow } from './result';
import { onnxScenarios } from './scenarios/onnx';
import { overheadScenarios } from './scenarios/overhead';
import { tfjsScenario } from './scenarios/tfjs';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',') : ['onnx', 'overhead', 'tfjs'];
  const { lib, from } = loadLibrary();
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  const load = loadavg();
  const started = performance.now();
  log(`rxjs-inference benchmarks (library from ${from}${quick ? ', quick' : ''})`);
  const reps = quick ? 3 : 5;
  const rows: BenchRow[] = [];
  if (only.includes('overhead')) {
    log('P2 / scaling: operator overhead with a no-op model…');
    rows.push(...(await overheadScenarios({ lib, reps, log })));
  }
  if (only.includes('onnx')) {
    log('P1 / P3 / P4: ONNX MLP 512→1024→1024→10 on the CPU…');
    rows.push(...(await onnxScenarios({ lib, elements: quick ? 4096 : 16384, reps, log })));
  }
  if (only.includes('tfjs')) {
    log('P5: TF.js wasm, same MLP…');
    rows.push(...(await tfjsScenario({ lib, elements: quick ? 512 : 2048, reps: quick ? 3 : 5, log })));
  }
  const order = ['P1', 'P2', 'P3', 'P4', 'P5', 'S'];
  rows.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  const durationS = Math.round((performance.now() - started) / 1000);
  console.log(`\n${table(rows)}\n`);
  writeResults(__dirname, rows, machine(from, durationS, load), lines);
  console.log(`Wrote bench/results.md and bench/results.json (${durationS} s).`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
