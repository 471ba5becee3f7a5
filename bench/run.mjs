// Launcher kept for `node bench/run.mjs`: the benchmarks are TypeScript (bench/run.ts), run with tsx.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const tsx = join(dirname(require.resolve('tsx/package.json')), 'dist', 'cli.mjs');
const { status } = spawnSync(process.execPath, [tsx, join(here, 'run.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(status ?? 1);
