// Builds the package: CommonJS with declarations (dist/cjs), and for each entry point of package.json's `exports` a
// thin ES-module wrapper (dist/esm) that re-exports the CommonJS build by name. There is one implementation, so an ES
// module app with a CommonJS dependency that both load rxjs-inference gets ONE instance per process: one
// defaultMetricsRegistry, one set of error classes (instanceof works across), one shared-model registry.
// Each output folder gets a package.json with its "type", so Node (and TypeScript) read each as what it is.
// The build goes to a private folder first and is swapped in at the end, so concurrent builds (several test runs at
// once) never see or leave a half-written dist/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const out = `.dist-build-${process.pid}`;

/** `"."` → `index`, `"./onnx"` → `onnx/index`: the module each code entry point of the exports map builds from. */
function entryModules() {
  const { exports } = JSON.parse(readFileSync('package.json', 'utf8'));
  return Object.entries(exports)
    .filter(([, target]) => typeof target === 'object' && target.require)
    .map(([key]) => (key === '.' ? 'index' : `${key.slice(2)}/index`));
}

function writeEsmWrapper(module) {
  const cjsFile = resolve(out, 'cjs', `${module}.js`);
  // The names the CommonJS entry exports at run time (types come from the declarations below).
  const names = Object.keys(require(cjsFile)).filter((name) => name !== '__esModule');
  const fromEsm = join(
    ...module
      .split('/')
      .slice(0, -1)
      .map(() => '..'),
    '..',
    'cjs',
    `${module}.js`,
  );
  const specifier = fromEsm.startsWith('.') ? fromEsm : `./${fromEsm}`;
  const file = join(out, 'esm', `${module}.js`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `// ES-module entry: re-exports the CommonJS build, so both module systems share one instance.\n` +
      `import cjs from '${specifier}';\n\n` +
      names.map((name) => `export const ${name} = cjs.${name};\n`).join(''),
  );
  writeFileSync(join(out, 'esm', `${module}.d.ts`), `export * from '${specifier}';\n`);
}

try {
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', `${out}/cjs`], { stdio: 'inherit' });
  writeFileSync(`${out}/cjs/package.json`, JSON.stringify({ type: 'commonjs' }) + '\n');
  mkdirSync(`${out}/esm`, { recursive: true });
  writeFileSync(`${out}/esm/package.json`, JSON.stringify({ type: 'module' }) + '\n');
  for (const module of entryModules()) writeEsmWrapper(module);
  // Read by test/globalSetup.js: the build is current when this is newer than every source file.
  writeFileSync(`${out}/.buildstamp`, new Date().toISOString() + '\n');
  rmSync('dist', { recursive: true, force: true });
  renameSync(out, 'dist');
} catch (error) {
  rmSync(out, { recursive: true, force: true });
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
