// Builds the package: CommonJS with declarations (dist/cjs), and for each entry point of package.json's `exports` a
// thin ES-module wrapper (dist/esm) that re-exports the CommonJS build by name. There is one implementation, so an ES
// module app with a CommonJS dependency that both load rxjs-inference gets ONE instance per process: one
// defaultMetricsRegistry, one set of error classes (instanceof works across), one shared-model registry.
// Each output folder gets a package.json with its "type", so Node (and TypeScript) read each as what it is.
// The `rxjs-inference` command also gets a bundle (dist/cjs/cli/bundle.js, see bundleCli below).
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

/**
 * The packages the command's bundle holds: the CLI's own dependencies and rxjs/fp-ts, with what they import. Every
 * other package (onnxruntime-node, TF.js, ioredis, glob, …: optional peers loaded lazily, when a job needs them) stays
 * an ordinary `require` from the bundle, resolved from the package's place as before.
 */
const BUNDLED = new Set(['rxjs', 'fp-ts', 'commander', 'cli-progress', 'tslib']);

/** `@scope/name/deep` → `@scope/name`, `name/deep` → `name`. */
function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * The command as one file, next to the CLI's CommonJS build (so `__dirname` is the same): Node then reads one file at
 * start-up instead of ~420 modules (our ~150 and rxjs's ~220), ≈ 25 instead of ≈ 75 ms before the first record is read
 * (issue 11, the main job). bin/rxjs-inference.js runs it. It is built from the CommonJS output, so it runs exactly
 * the code the package's entry points export; the library's entry points themselves stay unbundled.
 */
async function bundleCli() {
  const { build } = await import('esbuild');
  const onlyBundled = {
    name: 'only-bundled-packages',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        // What a bundled package imports is bundled with it.
        if (BUNDLED.has(packageOf(args.path)) || args.importer.includes('node_modules')) return undefined;
        return { path: args.path, external: true };
      });
    },
  };
  await build({
    entryPoints: [`${out}/cjs/cli/main.js`],
    outfile: `${out}/cjs/cli/bundle.js`,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'linked',
    // Stack traces under --enable-source-maps need the mappings, not a second copy of every source (1.8 of the map's
    // 2.4 MB, which doubled the packed size).
    sourcesContent: false,
    plugins: [onlyBundled],
    logLevel: 'warning',
  });
}

try {
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', `${out}/cjs`], { stdio: 'inherit' });
  writeFileSync(`${out}/cjs/package.json`, JSON.stringify({ type: 'commonjs' }) + '\n');
  mkdirSync(`${out}/esm`, { recursive: true });
  writeFileSync(`${out}/esm/package.json`, JSON.stringify({ type: 'module' }) + '\n');
  for (const module of entryModules()) writeEsmWrapper(module);
  await bundleCli();
  // Read by test/globalSetup.js: the build is current when this is newer than every source file.
  writeFileSync(`${out}/.buildstamp`, new Date().toISOString() + '\n');
  rmSync('dist', { recursive: true, force: true });
  renameSync(out, 'dist');
} catch (error) {
  rmSync(out, { recursive: true, force: true });
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
