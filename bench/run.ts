// `npm run bench`: measures the figures of issues 8 and 11 and writes bench/results.md and bench/results.json.
// Run with `npm run bench` (builds first). Options: --only onnx,overhead (scenario groups: overhead = P2/scaling,
// perElement = P6, mainJob = the main job, onnx = P1/P3/P4/worker pipelining, tfjs = P5, heap = heap flat, soak = L,
// 30 M elements with heap and RSS sampled, fast = the fast-hardware rows F, meant for a lent 16-core + GPU machine),
// --quick (fewer repetitions and elements, for a smoke run), --fast-devices cpu,webgpu (the devices of group fast),
// --fast-elements N (elements per round of group fast), --fast-variants inline,worker (only these library variants),
// --out DIR (write results.md/json there instead of bench/). BENCH_FROM=src benchmarks the TypeScript sources
// instead of dist/cjs. Every row of issue 11 is printed, met or not: without group fast, the F rows (and the W row of
// a many-core machine) are the ones recorded on the last device run (bench/device-results.json), marked as such.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadLibrary } from './lib';
import { machine, table, writeResults, type BenchMachine } from './report';
import type { BenchRow } from './result';
import { fastHardwareScenario, type FastDevice } from './scenarios/fastHardware';
import { onnxScenarios } from './scenarios/onnx';
import { heapScenario } from './scenarios/heap';
import { mainJobScenario } from './scenarios/mainJob';
import { overheadScenarios } from './scenarios/overhead';
import { perElementScenario } from './scenarios/perElement';
import { redisScenario } from './scenarios/redis';
import { serveScenario } from './scenarios/serve';
import { soakScenario } from './scenarios/soak';
import { tfjsScenario } from './scenarios/tfjs';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyAt = args.indexOf('--only');
  const groups = ['overhead', 'perElement', 'mainJob', 'onnx', 'tfjs', 'heap', 'redis', 'soak', 'serve'];
  const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',') : groups;
  // A misspelt group ran nothing and still rewrote results.md with a table of recorded rows only.
  const unknown = only.filter((group) => ![...groups, 'fast'].includes(group));
  if (unknown.length > 0) usage(`--only: no group ${unknown.join(', ')} (groups: ${groups.join(', ')}, fast)`);
  const option = (name: string) => {
    if (!args.includes(name)) return undefined;
    const value = args[args.indexOf(name) + 1];
    if (value === undefined || value.startsWith('--')) usage(`${name} needs a value`);
    return value;
  };
  const outDir = option('--out') ?? __dirname;
  const fastDevices = (option('--fast-devices') ?? 'cpu,webgpu').split(',') as FastDevice[];
  for (const device of fastDevices) {
    if (device !== 'cpu' && device !== 'webgpu') usage(`--fast-devices: expected cpu and/or webgpu, got ${device}`);
  }
  const fastVariants = option('--fast-variants')?.split(',');
  const fastElements = Number(option('--fast-elements') ?? (quick ? 16384 : 65536));
  if (!Number.isInteger(fastElements) || fastElements < 2) {
    usage(`--fast-elements: expected an integer ≥ 2, got ${option('--fast-elements')}`);
  }
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
  if (only.includes('perElement')) {
    log('P6: per-element cost, ONNX Identity (512 floats)…');
    rows.push(...(await perElementScenario({ lib, elements: quick ? 16384 : 65536, reps, log })));
  }
  if (only.includes('mainJob')) {
    log('Main job: rxjs-inference predict vs the hand-written script…');
    rows.push(...(await mainJobScenario({ records: quick ? 50_000 : 200_000, reps: 3, log })));
  }
  if (only.includes('onnx')) {
    log('P1 / P3 / P4: ONNX MLP 512→1024→1024→10 on the CPU…');
    rows.push(...(await onnxScenarios({ lib, elements: quick ? 4096 : 16384, reps, log })));
  }
  if (only.includes('tfjs')) {
    log('P5: TF.js wasm, same MLP…');
    rows.push(...(await tfjsScenario({ lib, elements: quick ? 512 : 2048, reps: quick ? 3 : 5, log })));
  }
  if (only.includes('heap')) {
    log('Heap flat: a hot Subject through runInference…');
    rows.push(...(await heapScenario({ lib, elements: quick ? 3_000_000 : 10_000_000, log })));
  }
  if (only.includes('redis')) {
    log('Scale-out: 1, 2 and 3 Redis workers vs the file-based command…');
    rows.push(...(await redisScenario({ records: quick ? 10_000 : 50_000, reps: quick ? 1 : 3, log })));
  }
  if (only.includes('soak')) {
    log('L: soak, one long-lived stream from a hot source…');
    rows.push(...(await soakScenario({ lib, elements: quick ? 3_000_000 : 30_000_000, chunk: 100, log })));
  }
  if (only.includes('serve')) {
    // Group `serve` (issue 14): `rxjs-inference serve` against two hand-written servers, over real HTTP.
    log('HTTP: rxjs-inference serve vs hand-written node:http servers…');
    rows.push(...(await serveScenario({ seconds: quick ? 1 : 2, reps: quick ? 1 : 2, log })));
  }
  if (only.includes('fast')) {
    for (const device of fastDevices) {
      log(`F: fast hardware, MLP on ${device}…`);
      const pools = device === 'cpu' ? [1, 2, 4] : [1];
      rows.push(
        ...(await fastHardwareScenario({
          lib,
          device,
          elements: fastElements,
          reps,
          log,
          workerPools: pools,
          only: fastVariants,
        })),
      );
      if (device === 'webgpu') {
        rows.push(
          ...(await fastHardwareScenario({
            lib,
            device,
            model: 'wide',
            elements: Math.floor(fastElements / 2),
            reps,
            log,
            only: fastVariants,
          })),
        );
      }
    }
  } else {
    rows.push(...recordedDeviceRows());
  }
  const order = ['P6', 'MJ', 'P1', 'W', 'F', 'P2', 'P3', 'P4', 'P5', 'S', 'H', 'R', 'L', 'HTTP'];
  rows.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  const durationS = Math.round((performance.now() - started) / 1000);
  console.log(`\n${table(rows)}\n`);
  mkdirSync(outDir, { recursive: true });
  writeResults(outDir, rows, machine(from, durationS, load), lines);
  console.log(`Wrote ${outDir}/results.md and results.json (${durationS} s).`);
}

/**
 * The fast-hardware rows of issue 11 (16-core CPU and WebGPU on an H100/H200) and the W row of a many-core machine,
 * as recorded by the last run of group `fast` on a lent device machine (bench/device-results.json, written there
 * with `--out`), each marked with where and when it was measured; rows saying so where none was recorded.
 */
function recordedDeviceRows(): BenchRow[] {
  const file = join(__dirname, 'device-results.json');
  if (!existsSync(file)) {
    const unmeasured = (name: string): BenchRow => ({
      id: 'F',
      name,
      value: NaN,
      unit: '×',
      target: '≥ 0.9×',
      pass: false,
      note: 'not measured: no device machine (16 cores, H100/H200) was lent to this run; P6 is the proxy — the faster the model, the more the per-element cost decides',
    });
    return [
      unmeasured('fast hardware: MLP 512→1024→1024→10 on a 16-core CPU vs its raw loop'),
      unmeasured('fast hardware: MLP 512→1024→1024→10 through WebGPU (H100/H200) vs its raw loop'),
    ];
  }
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as { machine: BenchMachine; rows: BenchRow[] };
  const on = recorded.machine;
  const where =
    `recorded ${on.date.slice(0, 16).replace('T', ' ')} UTC on a lent device machine (${on.cores} cores, ` +
    `${on.gpu ?? 'GPU'}${on.commit ? `, commit ${on.commit}` : ''}), not re-measured in this run`;
  return recorded.rows
    .filter((r) => r.id === 'F' || r.id === 'W')
    .map((r) => ({
      ...r,
      value: r.value ?? NaN, // JSON has no NaN: a row that was not measured is recorded with null
      name: r.id === 'W' ? `${r.name} [${on.cores} cores, recorded]` : `${r.name} [recorded]`,
      note: `${where}; ${r.note}`,
    }));
}

/** Stops the run before anything is measured or written, for an option it cannot honour. */
function usage(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
