import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// Consumer projects that install the packed tarball (dist/ is built by test/globalSetup.js): imports go through the
// `exports` map exactly as after `npm install rxjs-inference`. Each consumer's node_modules holds only what it names
// (links into this repository's node_modules: the required peers rxjs and fp-ts, @types/node, and the runtime under
// test), so "only onnxruntime-node installed" is what the compiler sees.
const root = join(__dirname, '..', '..');
const repoModules = join(root, 'node_modules');
const tsc = join(repoModules, 'typescript', 'bin', 'tsc');
const run = promisify(execFile);
let work: string;
let tarball: string;

function consumer(name: string, packages: string[]): string {
  const dir = join(work, name);
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'rxjs-inference'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', join(modules, 'rxjs-inference'), '--strip-components=1']);
  for (const pkg of ['rxjs', 'fp-ts', '@types/node', ...packages]) {
    mkdirSync(join(modules, pkg, '..'), { recursive: true });
    symlinkSync(join(repoModules, pkg), join(modules, pkg), 'dir');
  }
  return dir;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rxjs-inference-consumer-'));
  const [pack] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: root,
      encoding: 'utf8',
    }),
  );
  tarball = join(work, pack.filename);
  consumer('plain', []);
  consumer('onnx', ['onnxruntime-node', 'jest-environment-node']);
  consumer('tfjs', ['@tensorflow/tfjs']);
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function node(args: string[], cwd = join(work, 'plain')): string {
  return execFileSync(process.execPath, args, { cwd, encoding: 'utf8' });
}

const ENTRY_NAMES: Record<string, string[]> = {
  'rxjs-inference': [
    'runInference',
    'batchElements',
    'withExceptionHandling',
    'isExceptionAwareStage',
    'partitionFailures',
    'watchFilePattern',
    'BatchSizeEstimator',
    'ModelHandler',
    'DelegatingModelHandler',
    'modelHandler',
    'KeyedModelHandler',
    'MaybeKeyedModelHandler',
    'OnnxModelHandler',
    'TfjsModelHandler',
    'RemoteModelHandler',
    'InferenceError',
    'ModelLoadError',
    'FakeModelHandler',
    'createPredictor',
    'QueueFullError',
    'PredictorClosedError',
  ],
  'rxjs-inference/operators': [
    'runInference',
    'batchElements',
    'withExceptionHandling',
    'isExceptionAwareStage',
    'partitionFailures',
    'watchFilePattern',
  ],
  'rxjs-inference/handlers': [
    'ModelHandler',
    'DelegatingModelHandler',
    'modelHandler',
    'KeyedModelHandler',
    'MaybeKeyedModelHandler',
    'OnnxModelHandler',
    'TfjsModelHandler',
    'RemoteModelHandler',
  ],
  'rxjs-inference/onnx': ['OnnxModelHandler', 'OnnxWorkerModelHandler', 'onnxGenerate'],
  'rxjs-inference/tfjs': ['TfjsModelHandler'],
  'rxjs-inference/remote': ['RemoteModelHandler', 'AdaptiveThrottler', 'HttpError', 'RemoteInferenceError'],
  'rxjs-inference/testing': ['FakeModelHandler'],
  'rxjs-inference/redis': ['fromRedisStream', 'toRedisStream', 'parseRedisStreamUrl', 'isRedisUrl'],
};

describe('package entry points', () => {
  it('every exports entry has a subpath folder for node10 resolution, and the package ships each', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const subpaths = Object.entries(pkg.exports)
      .filter(
        ([key, target]) => key.startsWith('./') && typeof target === 'object' && target !== null && 'require' in target,
      )
      .map(([key]) => key.slice(2));
    expect(subpaths.sort()).toEqual(
      Object.keys(ENTRY_NAMES)
        .slice(1)
        .map((e) => e.split('/')[1])
        .sort(),
    );
    for (const subpath of subpaths) {
      const shim = JSON.parse(readFileSync(join(root, subpath, 'package.json'), 'utf8'));
      expect({ files: pkg.files.includes(subpath), shim }).toEqual({
        files: true,
        shim: expect.objectContaining({
          types: `../dist/cjs/${subpath}/index.d.ts`,
          main: `../dist/cjs/${subpath}/index.js`,
        }),
      });
    }
  });

  // The consumers have none of the package's dependencies installed (glob, and the CLI's commander and
  // cli-progress): importing an entry point loads none of them, nor a model runtime or client (ioredis).
  it.each(Object.entries(ENTRY_NAMES))(
    '%s works for require() and loads no runtime or CLI dependency',
    (entry, names) => {
      const script = `
      const m = require(${JSON.stringify(entry)});
      const missing = ${JSON.stringify(names)}.filter((n) => typeof m[n] !== 'function');
      const runtimes = Object.keys(require.cache).filter((k) => /onnxruntime|@tensorflow|ioredis|glob|commander|cli-progress/.test(k));
      console.log(JSON.stringify({ missing, runtimes }));`;
      expect(JSON.parse(node(['-e', script]))).toEqual({ missing: [], runtimes: [] });
    },
  );

  it.each(Object.entries(ENTRY_NAMES))('%s works for import', (entry, names) => {
    const script = `
      const m = await import(${JSON.stringify(entry)});
      console.log(JSON.stringify(${JSON.stringify(names)}.filter((n) => typeof m[n] !== 'function')));`;
    expect(JSON.parse(node(['--input-type=module', '-e', script]))).toEqual([]);
  });

  it('runs a pipeline from the CommonJS and ES module entries alike', () => {
    const body = `
      const handler = modelHandler({ loadModel: () => 1, runInference: (batch, inc) => batch.map((x) => x + inc) });
      const out = [];
      from([1, 5, 3, 10]).pipe(runInference(handler, { metrics: false })).subscribe({
        next: (v) => out.push(v),
        complete: () => console.log(JSON.stringify(out)),
      });`;
    const cjs = `const { from } = require('rxjs'); const { runInference, modelHandler } = require('rxjs-inference');${body}`;
    const esm = `import { from } from 'rxjs'; import { runInference } from 'rxjs-inference/operators'; import { modelHandler } from 'rxjs-inference/handlers';${body}`;
    expect(node(['-e', cjs]).trim()).toBe('[2,6,4,11]');
    expect(node(['--input-type=module', '-e', esm]).trim()).toBe('[2,6,4,11]');
  });

  it('an ES module app and a CommonJS dependency loading the package share one instance', () => {
    // The CommonJS side is what a CommonJS dependency of the app would get from require().
    const script = `
      import { createRequire } from 'node:module';
      import { lastValueFrom, map, timer, toArray } from 'rxjs';
      import * as esm from 'rxjs-inference';
      import { FakeModelHandler } from 'rxjs-inference/testing';
      const cjs = createRequire(import.meta.url)('rxjs-inference');
      const cjsTesting = createRequire(import.meta.url)('rxjs-inference/testing');
      let loads = 0;
      const count = { loadModel: () => { loads++; return 1; } };
      const a = esm.modelHandler({ ...count, runInference: (batch) => batch });
      const b = cjs.modelHandler({ ...count, runInference: (batch) => batch });
      // Both pipelines are subscribed at once (until their timers fire), naming one shared model: one load.
      await Promise.all([
        lastValueFrom(timer(20).pipe(map(() => 1), esm.runInference(a, { modelIdentifier: 'shared', metrics: false }), toArray())),
        lastValueFrom(timer(20).pipe(map(() => 2), cjs.runInference(b, { modelIdentifier: 'shared', metrics: false }), toArray())),
      ]);
      console.log(JSON.stringify({
        registry: esm.defaultMetricsRegistry === cjs.defaultMetricsRegistry,
        errorsAcross: new esm.ModelLoadError('x') instanceof cjs.ModelLoadError && new cjs.InferenceError('x') instanceof esm.InferenceError,
        fake: FakeModelHandler === cjsTesting.FakeModelHandler,
        runInference: esm.runInference === cjs.runInference,
        loads,
      }));`;
    expect(JSON.parse(node(['--input-type=module', '-e', script]))).toEqual({
      registry: true,
      errorsAcross: true,
      fake: true,
      runInference: true,
      loads: 1,
    });
  });

  it('rxjs-inference/testing/environment is a jest node environment sharing the outer typed arrays', () => {
    const script = `
      const { TestEnvironment } = require('jest-environment-node');
      const Environment = require('rxjs-inference/testing/environment');
      const env = new Environment({ globalConfig: {}, projectConfig: { testEnvironmentOptions: {}, setupFiles: [] } }, {});
      console.log(JSON.stringify({
        subclass: env instanceof TestEnvironment,
        shared: ['Float32Array', 'BigInt64Array', 'ArrayBuffer'].every((n) => env.global[n] === globalThis[n]),
      }));`;
    expect(JSON.parse(node(['-e', script], join(work, 'onnx')))).toEqual({ subclass: true, shared: true });
  });

  it('packs dist, the subpath folders and the binary, and no sources or tests', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    for (const file of [
      'dist/cjs/index.js',
      'dist/esm/index.js',
      'dist/cjs/index.d.ts',
      'dist/esm/index.d.ts',
      'dist/cjs/operators/index.js',
      'dist/cjs/onnx/index.d.ts',
      'operators/package.json',
      'handlers/package.json',
      'onnx/package.json',
      'tfjs/package.json',
      'remote/package.json',
      'testing/package.json',
      'redis/package.json',
      'bin/rxjs-inference.js',
      'dist/cjs/cli/bundle.js',
      'bin/codeCache.js',
      'README.md',
    ]) {
      expect(files).toContain(file);
    }
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
    // README's links to docs/ and examples/ resolve inside the package.
    expect(files).toEqual(expect.arrayContaining(['docs/cli.md', 'examples/onnx-classification.ts']));
  });

  it('source maps carry their sources (src/ is not shipped), and `npm pack` builds first', () => {
    const installed = join(work, 'plain', 'node_modules', 'rxjs-inference');
    const map = JSON.parse(readFileSync(join(installed, 'dist', 'cjs', 'operators', 'runInference.js.map'), 'utf8'));
    expect(map.sourcesContent).toHaveLength(map.sources.length);
    expect(map.sourcesContent[0]).toContain('export function runInference');
    // The command's bundle maps to the same sources (for --enable-source-maps) without a second copy of them.
    const bundleMap = JSON.parse(readFileSync(join(installed, 'dist', 'cjs', 'cli', 'bundle.js.map'), 'utf8'));
    expect(bundleMap.sources).toContain('../../../src/cli/main.ts');
    expect(bundleMap.sourcesContent).toBeUndefined();
    expect(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).scripts.prepack).toBe('npm run build');
  });

  it('the tarball is clean for @arethetypeswrong/cli and publint', async () => {
    const bin = (name: string): string => join(repoModules, '.bin', name);
    const [attw, publint] = await Promise.all([
      run(bin('attw'), [tarball, '--format', 'json'], { cwd: work }).then(
        (r) => JSON.parse(r.stdout),
        (e: { stdout: string }) => JSON.parse(e.stdout),
      ),
      run(bin('publint'), [tarball, '--strict'], { cwd: work }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      ),
    ]);
    expect(attw.analysis.problems).toEqual([]);
    expect(publint).toEqual({ code: 0, out: expect.not.stringMatching(/warning|error|suggestion/i) });
  }, 60_000);
});

// What a strict TypeScript user compiles: each per-runtime entry point against only its runtime.
describe('TypeScript consumers with skipLibCheck: false', () => {
  const USES: Record<string, string> = {
    'rxjs-inference/operators': `
      import { of } from 'rxjs';
      import { runInference, batchElements } from 'rxjs-inference/operators';
      import { FakeModelHandler } from 'rxjs-inference/testing';
      const out: import('rxjs').Observable<number> = of(1, 2).pipe(runInference(new FakeModelHandler<number, number>({ run: (x) => x * 2 })));
      const batches: import('rxjs').Observable<number[]> = of(1, 2).pipe(batchElements({ maxBatchSize: 2 }));
      export { out, batches };`,
    'rxjs-inference/remote': `
      import { RemoteModelHandler, HttpError } from 'rxjs-inference/remote';
      const handler = new RemoteModelHandler<number[], number, undefined>({ request: async (batch) => batch.map((x) => x.length) });
      export { handler, HttpError };`,
    'rxjs-inference/redis': `
      import { fromRedisStream, toRedisStream, type RedisStreamEntry } from 'rxjs-inference/redis';
      export { fromRedisStream, toRedisStream };
      export type Entry = RedisStreamEntry;`,
    'rxjs-inference/onnx': `
      import { of } from 'rxjs';
      import { runInference } from 'rxjs-inference/operators';
      import { OnnxModelHandler, type OnnxInference } from 'rxjs-inference/onnx';
      const out = of({ data: new Float32Array(4), dims: [4] }).pipe(runInference(new OnnxModelHandler({ modelUri: 'model.onnx' })));
      const check: import('rxjs').Observable<{ inference: OnnxInference }> = out;
      export { check };`,
    'rxjs-inference/tfjs': `
      import { TfjsModelHandler } from 'rxjs-inference/tfjs';
      export const handler = new TfjsModelHandler({ modelUri: 'model.json', modelType: 'layers' });`,
    'rxjs-inference': `
      import { runInference, OnnxModelHandler, TfjsModelHandler, RemoteModelHandler } from 'rxjs-inference';
      export { runInference, OnnxModelHandler, TfjsModelHandler, RemoteModelHandler };`,
  };

  async function compile(project: string, entries: string[], skipLibCheck: boolean): Promise<string[]> {
    const dir = join(work, project);
    const files = entries.flatMap((entry, i) => {
      // The same use from an ES module and from a CommonJS file (`module: nodenext` reads the extension).
      writeFileSync(join(dir, `use${i}.mts`), USES[entry]);
      writeFileSync(join(dir, `use${i}.cts`), USES[entry]);
      return [`use${i}.mts`, `use${i}.cts`];
    });
    const compilerOptions = {
      strict: true,
      skipLibCheck,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'ES2022',
      noEmit: true,
      types: ['node'],
    };
    const config = `tsconfig.${skipLibCheck ? 'skip' : 'strict'}.json`;
    writeFileSync(join(dir, config), JSON.stringify({ compilerOptions, files }));
    try {
      await run(process.execPath, [tsc, '-p', config], { cwd: dir });
      return [];
    } catch (error) {
      return ((error as { stdout: string }).stdout.match(/^\S.*error TS\d+/gm) ?? []).map((l) => l.split('(')[0]);
    }
  }

  it('/operators, /testing, /remote and /redis with no runtime or client installed; /onnx with only onnxruntime-node', async () => {
    const [plain, onnx] = await Promise.all([
      compile('plain', ['rxjs-inference/operators', 'rxjs-inference/remote', 'rxjs-inference/redis'], false),
      compile('onnx', ['rxjs-inference/onnx'], false),
    ]);
    expect({ plain, onnx }).toEqual({ plain: [], onnx: [] });
  }, 60_000);

  it("/tfjs with only @tensorflow/tfjs: no error in this package's declarations (tfjs's own fail under strict)", async () => {
    const errors = await compile('tfjs', ['rxjs-inference/tfjs'], false);
    expect(errors.filter((file) => !file.includes('/node_modules/@tensorflow/'))).toEqual([]);
  }, 60_000);

  it('the root entry (every handler) compiles with skipLibCheck: true and no runtime installed', async () => {
    expect(await compile('plain', ['rxjs-inference'], true)).toEqual([]);
  }, 60_000);
});
