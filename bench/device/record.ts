// `npx tsx bench/device/record.ts DIR…`: writes bench/device-results.json from the results.json files a device run
// left in DIR… (bench/device/run.sh's steps, in the order given): every F row of group fast, the W rows, and P6, the
// main job, P1 (default config and alone) and P3 of the 16-core machine as "16-core device:" info rows. `npm run bench`
// prints them as "[recorded]" rows with the machine, time and commit of the first folder's run.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchMachine } from '../report';
import type { BenchRow } from '../result';

const dirs = process.argv.slice(2).filter((dir) => existsSync(join(dir, 'results.json')));
if (dirs.length === 0) {
  console.error('record: no results.json in the folders given (usage: record.ts DIR…)');
  process.exit(2);
}
const runs = dirs.map(
  (dir) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { machine: BenchMachine; rows: BenchRow[] },
);
const info = new Set(['P6', 'MJ', 'P3']);
const rows: BenchRow[] = [];
const names = new Set<string>();
for (const { rows: measured } of runs) {
  for (const row of measured) {
    // JSON has no NaN: a figure that was not measured comes back as null.
    const unmeasured = row.value === null || Number.isNaN(row.value);
    if (row.id === 'F' && !(unmeasured && row.note.startsWith('not measured: no device machine'))) {
      if (!names.has(row.name)) rows.push(row);
      names.add(row.name);
    } else if (row.id === 'W') {
      rows.push(row);
    } else if (info.has(row.id) || (row.id === 'P1' && /default config|alone/.test(row.name))) {
      rows.push({ ...row, id: 'F', name: `16-core device: ${row.name}`, target: '—', pass: true });
    }
  }
}
const out = join(__dirname, '..', 'device-results.json');
writeFileSync(out, JSON.stringify({ machine: runs[0].machine, rows }, null, 2) + '\n');
console.log(`record: ${rows.length} rows from ${dirs.join(', ')} → ${out}`);
