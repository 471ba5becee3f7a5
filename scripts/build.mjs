// Builds the package: CommonJS (dist/cjs), ES modules (dist/esm) and declarations (dist/types).
// Each output folder gets a package.json with its "type", so Node reads each as what it is.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

rmSync('dist', { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.esm.json', 'tsconfig.types.json']) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
}
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
writeFileSync('dist/esm/package.json', JSON.stringify({ type: 'module' }) + '\n');
// Read by test/globalSetup.js: the build is current when this is newer than every source file.
writeFileSync('dist/.buildstamp', new Date().toISOString() + '\n');
