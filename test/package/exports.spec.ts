import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A consumer project whose node_modules/rxjs-inference is this repository: imports go through the `exports` map and
// the built dist/, exactly as after `npm install rxjs-inference` (dist/ is built by test/globalSetup.js).
const root = join(__dirname, '..', '..');
let consumer: string;

beforeAll(() => {
  consumer = mkdtempSync(join(tmpdir(), 'rxjs-inference-consumer-'));
  mkdirSync(join(consumer, 'node_modules'));
  symlinkSync(root, join(consumer, 'node_modules', 'rxjs-inference'), 'dir');
  // The consumer's own rxjs (the package's peers resolve from its real path, the repository).
  symlinkSync(join(root, 'node_modules', 'rxjs'), join(consumer, 'node_modules', 'rxjs'), 'dir');
});

afterAll(() => rmSync(consumer, { recursive: true, force: true }));

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: consumer, encoding: 'utf8' });
}

const ENTRY_NAMES: Record<string, string[]> = {
  'rxjs-inference': [
    'runInference',
    'batchElements',
    'withExceptionHandling',
    'partitionFailures',
    'watchFilePattern',
    'BatchSizeEstimator',
    'ModelHandler',
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
    'partitionFailures',
    'watchFilePattern',
  ],
  'rxjs-inference/handlers': [
    'ModelHandler',
    'modelHandler',
    'KeyedModelHandler',
    'MaybeKeyedModelHandler',
    'OnnxModelHandler',
    'TfjsModelHandler',
    'RemoteModelHandler',
  ],
  'rxjs-inference/testing': ['FakeModelHandler'],
  'rxjs-inference/redis': ['fromRedisStream', 'toRedisStream', 'parseRedisStreamUrl', 'isRedisUrl'],
};

describe('package entry points', () => {
  it.each(Object.entries(ENTRY_NAMES))(
    '%s works for require() and loads no model runtime or client',
    (entry, names) => {
      const script = `
      const m = require(${JSON.stringify(entry)});
      const missing = ${JSON.stringify(names)}.filter((n) => typeof m[n] !== 'function');
      const runtimes = Object.keys(require.cache).filter((k) => /onnxruntime|@tensorflow|ioredis/.test(k));
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

  it('runs a pipeline from the built CommonJS and ES module outputs alike', () => {
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

  it('packs dist, the subpath shims and the binary', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }),
    );
    const files = (pack.files as { path: string }[]).map((f) => f.path);
    for (const file of [
      'dist/cjs/index.js',
      'dist/esm/index.js',
      'dist/cjs/index.d.ts',
      'dist/cjs/operators/index.js',
      'operators/package.json',
      'handlers/package.json',
      'testing/package.json',
      'redis/package.json',
      'bin/rxjs-inference.js',
      'README.md',
    ]) {
      expect(files).toContain(file);
    }
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
  });
});
