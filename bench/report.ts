import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import type { BenchRow } from './result';
import { fmt } from './stats';

/** Where and how the figures were measured. */
export interface BenchMachine {
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly loadAverage: readonly number[];
  readonly library: string;
  readonly date: string;
  readonly durationS: number;
  /** The accelerator, where the run was told of one (`BENCH_GPU`, e.g. from nvidia-smi on a lent machine). */
  readonly gpu?: string;
  /** The commit measured (`BENCH_COMMIT`), where the run was told. */
  readonly commit?: string;
}

/** Describes this machine. */
export function machine(library: string, durationS: number, loadAverage: readonly number[]): BenchMachine {
  return {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage,
    library,
    date: new Date().toISOString(),
    durationS,
    ...(process.env.BENCH_GPU && { gpu: process.env.BENCH_GPU }),
    ...(process.env.BENCH_COMMIT && { commit: process.env.BENCH_COMMIT }),
  };
}

const number = (v: number, unit: string) =>
  Number.isNaN(v) ? 'not measured' : unit === 'ms' || unit === 'MiB' ? fmt(v, 2) : fmt(v);

/** The results as a Markdown table (the same text is printed and written to results.md). */
export function table(rows: readonly BenchRow[]): string {
  const lines = [
    '| id | scenario | rxjs-inference | baseline | ratio | target | met |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of rows) {
    const value = Number.isNaN(r.value) ? 'not measured' : `${number(r.value, r.unit)} ${r.unit}`;
    const baseline = r.baseline === undefined ? '—' : `${number(r.baseline, r.unit)} ${r.unit}`;
    const ratio = r.ratio === undefined ? '—' : `${fmt(r.ratio, 2)}×`;
    const met = r.target === '—' ? 'info' : Number.isNaN(r.value) ? 'n/a' : r.pass ? 'yes' : '**no**';
    lines.push(`| ${r.id} | ${r.name} | ${value} | ${baseline} | ${ratio} | ${r.target} | ${met} |`);
  }
  return lines.join('\n');
}

/** Writes bench/results.md and bench/results.json. */
export function writeResults(dir: string, rows: readonly BenchRow[], on: BenchMachine, log: readonly string[]): void {
  const md = [
    '# Benchmark results',
    '',
    `Measured ${on.date} by \`npm run bench\` (library from \`${on.library}\`), ${on.durationS} s.`,
    `Machine: ${on.cores} cores (${on.cpu}), ${on.memoryGiB} GiB, Node ${on.node}; load average at start ` +
      `${on.loadAverage.map((l) => l.toFixed(1)).join(' / ')}${on.gpu ? `; GPU: ${on.gpu}` : ''}` +
      `${on.commit ? `; commit ${on.commit}` : ''}.`,
    '',
    'Each ratio compares two figures measured in the same process, interleaved, median of the repetitions, after a',
    'warm-up. Absolute figures depend on the machine and its load; the ratios are what the targets are about.',
    '',
    table(rows),
    '',
    '## Notes per line',
    '',
    ...rows.map((r) => `- **${r.id}** ${r.name}: ${r.note}.`),
    '',
    '## Log',
    '',
    '```text',
    ...log,
    '```',
    '',
  ].join('\n');
  writeFileSync(`${dir}/results.md`, md);
  writeFileSync(`${dir}/results.json`, JSON.stringify({ machine: on, rows }, null, 2) + '\n');
}
