// Builds the package: CommonJS with declarations (dist/cjs) and ES modules (dist/esm).
// Each output folder gets a package.json with its "type", so Node reads each as what it is.
// The build goes to a private folder first and is swapped in at the end, so concurrent builds (several test runs at
// once) never see or leave a half-written dist/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const out = `.dist-build-${process.pid}`;

try {
  for (const [project, folder] of [
    ['tsconfig.build.json', 'cjs'],
    ['tsconfig.esm.json', 'esm'],
  ]) {
    execFileSync(process.execPath, [tsc, '-p', project, '--outDir', `${out}/${folder}`], { stdio: 'inherit' });
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}/cjs/package.json`, JSON.stringify({ type: 'commonjs' }) + '\n');
  writeFileSync(`${out}/esm/package.json`, JSON.stringify({ type: 'module' }) + '\n');
  // Read by test/globalSetup.js: the build is current when this is newer than every source file.
  writeFileSync(`${out}/.buildstamp`, new Date().toISOString() + '\n');
  rmSync('dist', { recursive: true, force: true });
  renameSync(out, 'dist');
} catch (error) {
  rmSync(out, { recursive: true, force: true });
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
