import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CONTROL_CHARACTERS, featureRows, FEATURES, jsonLines, reference, writeMlp } from './cliFixtures';

// End-to-end: spawns the real binary (`node bin/rxjs-inference.js`, which loads the one-file bundle
// dist/cjs/cli/bundle.js) on data generated here, as a user would run it.
const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'rxjs-inference.js');
const MAIN = join(ROOT, 'dist', 'cjs', 'cli', 'bundle.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], stdin?: string, bin = BIN): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

describe('rxjs-inference (the built binary)', () => {
  let dir: string;
  let model: string;
  let fixture: ReturnType<typeof writeMlp>['fixture'];

  beforeAll(() => {
    // A clean clone has no dist/: build it, and rebuild when a source is newer than the build.
    if (!existsSync(MAIN) || statSync(MAIN).mtimeMs < newestMtime(join(ROOT, 'src'))) {
      execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
    }
    dir = mkdtempSync(join(tmpdir(), 'cli-e2e-'));
    ({ path: model, fixture } = writeMlp(dir));
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scores a file and dead-letters malformed, oversized, wrong-shape and non-numeric lines (exit 1)', async () => {
    const rows = featureRows(500);
    const lines = rows.map((features, i) => JSON.stringify({ id: i, features }));
    const bad = {
      malformed: '{"id": "m", "features": [0.1, 0.2,',
      oversized: JSON.stringify({ id: 'big', features: Array(5000).fill(0.5) }),
      wrongShape: JSON.stringify({
        id: 'w',
        features: [
          [1, 2],
          [3, 4],
        ],
      }),
      nonNumeric: JSON.stringify({ id: 'n', features: [1, 2, 3, 'four', 5, 6, 7, 8] }),
    };
    lines.splice(100, 0, bad.malformed);
    lines.splice(200, 0, bad.oversized);
    lines.splice(300, 0, bad.wrongShape);
    lines.splice(400, 0, bad.nonNumeric);
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, lines.join('\n') + '\n');
    const [output, dead] = [join(dir, 'out.jsonl'), join(dir, 'dead.jsonl')];
    const options = '--id-field id --max-line-length 10000 --max-raw-length 64 --progress-interval-ms 1'.split(' ');
    const result = await run(['predict', '-m', model, '-i', input, '-o', output, '--dead-letter', dead, ...options]);
    expect(result.code).toBe(1);
    const results = jsonLines<{ line: number; id: number; output: number[] }>(readFileSync(output, 'utf8'));
    expect(results.map((r) => r.id)).toEqual(rows.map((_, i) => i));
    results.forEach((r, i) => r.output.forEach((v, k) => expect(v).toBeCloseTo(reference(fixture, rows[i])[k], 5)));
    const letters = jsonLines(readFileSync(dead, 'utf8'));
    expect(letters).toEqual([
      {
        line: 101,
        id: null,
        stage: 'preprocess',
        error: 'InvalidExampleError',
        reason: expect.stringMatching(/^malformed JSON: /),
        raw: bad.malformed,
        rawLength: bad.malformed.length,
        truncated: false,
      },
      {
        line: 201,
        id: null,
        stage: 'preprocess',
        error: 'InvalidExampleError',
        reason: `line too long: ${bad.oversized.length} bytes, over the limit of 10000 (--max-line-length).`,
        raw: bad.oversized.slice(0, 64),
        rawLength: bad.oversized.length,
        truncated: true,
      },
      expect.objectContaining({
        line: 301,
        id: 'w',
        reason: 'input `input`: wrong shape: the model expects [8] per record, got [2, 2].',
      }),
      expect.objectContaining({
        line: 401,
        id: 'n',
        reason: 'input `input`: value[3] is "four", expected a finite number within the float32 range (±3.4e38).',
      }),
    ]);
    // Standard error is not a terminal here: plain progress lines and summary, no control characters.
    expect(result.stderr).toMatch(/^rxjs-inference: \d+\/504 lines \(\d+\.\d %\), \d+ failed, \d+ rec\/s, ETA /m);
    expect(result.stderr).toContain('records     in 504, out 500, failed 4');
    expect(result.stderr).not.toMatch(CONTROL_CHARACTERS);
    expect(result.stdout).toBe('');
  });

  it('streams standard input to standard output (exit 0)', async () => {
    const rows = featureRows(50, 3);
    const result = await run(
      ['predict', '-m', model, '--output-format', 'topk', '--top-k', '2', '-q'],
      rows.map((r) => JSON.stringify(r)).join('\n'),
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const results = jsonLines<{ line: number; top: { class: number; score: number }[] }>(result.stdout);
    expect(results).toHaveLength(50);
    results.forEach((r, i) => {
      const expected = reference(fixture, rows[i]);
      const order = expected.map((_, k) => k).sort((a, b) => expected[b] - expected[a]);
      expect(r.line).toBe(i + 1);
      expect(r.top.map((t) => t.class)).toEqual(order.slice(0, 2));
    });
  });

  it.each([[['--workers', '2']], [['--workers', '2', '--threads', '1']]])(
    'runs an ONNX model in worker threads with %j',
    async (flags) => {
      const rows = featureRows(200, 5);
      const result = await run(['predict', '-m', model, ...flags, '-q'], rows.map((r) => JSON.stringify(r)).join('\n'));
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const results = jsonLines<{ line: number; output: number[] }>(result.stdout);
      expect(results.map((r) => r.line)).toEqual(rows.map((_, i) => i + 1));
      results.forEach((r, i) => r.output.forEach((v, k) => expect(v).toBeCloseTo(reference(fixture, rows[i])[k], 5)));
    },
  );

  it('exits 2 with a clear message for a missing model, and when dist/ is not built', async () => {
    const missing = await run(['predict', '-m', join(dir, 'nope.onnx'), '-q'], '[1]\n');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot load model .*nope\.onnx.*the file does not exist/);
    const unbuilt = join(dir, 'unbuilt');
    mkdirSync(join(unbuilt, 'bin'), { recursive: true });
    copyFileSync(BIN, join(unbuilt, 'bin', 'rxjs-inference.js'));
    const shim = await run(['predict'], '', join(unbuilt, 'bin', 'rxjs-inference.js'));
    expect(shim.code).toBe(2);
    expect(shim.stderr).toContain('run `npm run build` first');
  });

  /** Runs `node [preloads] bin predict -m model -q` on 3 records, with `env` added to the environment. */
  function runWithPreloads(preloads: readonly string[], env: NodeJS.ProcessEnv, bin = BIN): Promise<Run> {
    const rows = featureRows(3);
    return new Promise<Run>((resolve, reject) => {
      const args = [...preloads.flatMap((p) => ['--require', p]), bin, 'predict', '-m', model, '-q'];
      const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env } });
      let [stdout, stderr] = ['', ''];
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(rows.map((r) => JSON.stringify(r)).join('\n'));
    });
  }

  /**
   * Preloads: `modules` prints every module file Node loaded (the require cache) at exit; `codeCache` prints whether
   * V8 was given a code cache for a script, and whether it took it.
   */
  function writePreloads(): { modules: string; codeCache: string } {
    const modules = join(dir, 'listModules.js');
    writeFileSync(
      modules,
      `process.on('exit', () => process.stderr.write('MODULES ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));\n`,
    );
    const codeCache = join(dir, 'codeCacheUse.js');
    writeFileSync(
      codeCache,
      `const vm = require('node:vm');
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(source, options) {
    super(source, options);
    const given = options !== undefined && options.cachedData !== undefined;
    process.on('exit', () => process.stderr.write('CODE-CACHE ' + (given ? (this.cachedDataRejected ? 'rejected' : 'used') : 'none') + '\\n'));
  }
};
`,
    );
    return { modules, codeCache };
  }

  const cacheFiles = (cacheDir: string): string[] => (existsSync(cacheDir) ? readdirSync(cacheDir) : []);

  it("loads as one file, and from the second run on with V8's code cache of the first", async () => {
    const preloads = writePreloads();
    const env = { RXJS_INFERENCE_CODE_CACHE_DIR: join(dir, 'code-cache-1') };
    const first = await runWithPreloads([preloads.modules, preloads.codeCache], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('CODE-CACHE none');
    expect(cacheFiles(env.RXJS_INFERENCE_CODE_CACHE_DIR)).toHaveLength(1);
    const second = await runWithPreloads([preloads.modules, preloads.codeCache], env);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('CODE-CACHE used');
    expect(jsonLines(second.stdout)).toEqual(jsonLines(first.stdout));
    expect(jsonLines(second.stdout)).toHaveLength(3);
    for (const { stderr } of [first, second]) {
      const modules = JSON.parse(/MODULES (.*)/.exec(stderr)![1]) as string[];
      // The bundle runs from its source (and cache), outside the require cache; no other file of the package loads.
      expect(modules.filter((m) => m.startsWith(join(ROOT, 'dist')))).toEqual([]);
      for (const bundled of ['rxjs', 'fp-ts', 'commander', 'cli-progress']) {
        expect(modules.filter((m) => m.includes(`/node_modules/${bundled}/`))).toEqual([]);
      }
      // The model's runtime is still the installed package, loaded when the job needs it.
      expect(modules.some((m) => m.includes('/node_modules/onnxruntime-node/'))).toBe(true);
    }
  });

  it('runs the same with a code cache V8 rejects, with none, or turned off; a rebuilt bundle replaces its old cache', async () => {
    const preloads = writePreloads();
    const cacheDir = join(dir, 'code-cache-2');
    const env = { RXJS_INFERENCE_CODE_CACHE_DIR: cacheDir };
    // A copy of the package, so that its bundle can be changed.
    const copy = join(dir, 'package-copy');
    const bundle = join(copy, 'dist', 'cjs', 'cli', 'bundle.js');
    mkdirSync(dirname(bundle), { recursive: true });
    mkdirSync(join(copy, 'bin'), { recursive: true });
    for (const file of ['rxjs-inference.js', 'codeCache.js'])
      copyFileSync(join(ROOT, 'bin', file), join(copy, 'bin', file));
    copyFileSync(MAIN, bundle);
    copyFileSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const bin = join(copy, 'bin', 'rxjs-inference.js');
    const expected = jsonLines((await runWithPreloads([], { RXJS_INFERENCE_CODE_CACHE: '0' })).stdout);
    expect(expected).toHaveLength(3);

    await runWithPreloads([], env, bin);
    const [written] = cacheFiles(cacheDir);
    writeFileSync(join(cacheDir, written), Buffer.alloc(4096, 7));
    const damaged = await runWithPreloads([preloads.codeCache], env, bin);
    expect(damaged).toMatchObject({ code: 0 });
    expect(jsonLines(damaged.stdout)).toEqual(expected);
    expect(damaged.stderr).toContain('CODE-CACHE rejected');
    // Written again, whole.
    expect(cacheFiles(cacheDir)).toEqual([written]);
    expect(statSync(join(cacheDir, written)).size).toBeGreaterThan(4096);

    writeFileSync(bundle, readFileSync(bundle, 'utf8') + '\n// rebuilt\n');
    const rebuilt = await runWithPreloads([preloads.codeCache], env, bin);
    expect(jsonLines(rebuilt.stdout)).toEqual(expected);
    expect(rebuilt.stderr).toContain('CODE-CACHE none');
    expect(cacheFiles(cacheDir)).toHaveLength(1);
    expect(cacheFiles(cacheDir)).not.toEqual([written]);

    const off = join(dir, 'code-cache-off');
    const plain = await runWithPreloads([preloads.modules, preloads.codeCache], {
      RXJS_INFERENCE_CODE_CACHE: '0',
      RXJS_INFERENCE_CODE_CACHE_DIR: off,
    });
    expect(jsonLines(plain.stdout)).toEqual(expected);
    expect(plain.stderr).not.toContain('CODE-CACHE');
    expect(JSON.parse(/MODULES (.*)/.exec(plain.stderr)![1])).toContain(MAIN);
    expect(existsSync(off)).toBe(false);
  });

  it('uses no cache folder that is a link or that others may write to, and a cache it cannot write changes nothing', async () => {
    const expected = jsonLines((await runWithPreloads([], { RXJS_INFERENCE_CODE_CACHE: '0' })).stdout);
    expect(expected).toHaveLength(3);
    const real = join(dir, 'cache-real');
    mkdirSync(real, { mode: 0o700 });
    const link = join(dir, 'cache-link');
    symlinkSync(real, link);
    // Group- or world-writable (e.g. RXJS_INFERENCE_CODE_CACHE_DIR=/tmp): someone else could plant a cache V8 runs.
    const shared = join(dir, 'cache-shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const groupWritable = join(dir, 'cache-group');
    mkdirSync(groupWritable);
    chmodSync(groupWritable, 0o770);
    const underFile = join(dir, 'not-a-folder', 'cache');
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    for (const cacheDir of [link, shared, groupWritable, underFile]) {
      const run = await runWithPreloads([], { RXJS_INFERENCE_CODE_CACHE_DIR: cacheDir });
      expect({ cacheDir, code: run.code, stderr: run.stderr }).toEqual({ cacheDir, code: 0, stderr: '' });
      expect(jsonLines(run.stdout)).toEqual(expected);
    }
    expect(readdirSync(real)).toEqual([]);
    expect(readdirSync(shared)).toEqual([]);
    expect(readdirSync(groupWritable)).toEqual([]);

    // The cache file's name taken by a folder: it can be neither read nor written, and the run is the same.
    const own = join(dir, 'cache-own');
    await runWithPreloads([], { RXJS_INFERENCE_CODE_CACHE_DIR: own });
    const [name] = readdirSync(own);
    rmSync(join(own, name));
    mkdirSync(join(own, name, 'occupied'), { recursive: true });
    const blocked = await runWithPreloads([], { RXJS_INFERENCE_CODE_CACHE_DIR: own });
    expect(blocked).toMatchObject({ code: 0, stderr: '' });
    expect(jsonLines(blocked.stdout)).toEqual(expected);
    // Its private partial file is removed again.
    expect(readdirSync(own)).toEqual([name]);
  });

  it('keeps no code cache from a run that did not do its job, or from --help: the first full run writes it', async () => {
    const cacheDir = join(dir, 'code-cache-first');
    const env = { ...process.env, RXJS_INFERENCE_CODE_CACHE_DIR: cacheDir };
    const plain = (args: string[]) =>
      new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          cwd: ROOT,
          env,
          stdio: ['ignore', 'ignore', 'ignore'],
        });
        child.on('error', reject);
        child.on('close', resolve);
      });
    // A usage error and a model that does not load (exit 2), and help: each compiles only the start of `predict`.
    expect(await plain(['predict', '--no-such-option'])).toBe(2);
    expect(await plain(['predict', '-m', join(dir, 'missing.onnx'), '-i', join(dir, 'missing.jsonl')])).toBe(2);
    expect(await plain(['predict', '--help'])).toBe(0);
    expect(await plain(['--version'])).toBe(0);
    expect(cacheFiles(cacheDir)).toEqual([]);
    const full = await runWithPreloads([], { RXJS_INFERENCE_CODE_CACHE_DIR: cacheDir });
    expect(full.code).toBe(0);
    expect(cacheFiles(cacheDir)).toHaveLength(1);
  });

  it('with --enable-source-maps, loads the bundle as a module (mapped stack traces) and uses no code cache', async () => {
    const preloads = writePreloads();
    const cacheDir = join(dir, 'code-cache-maps');
    const run = await runWithPreloads([preloads.modules, preloads.codeCache], {
      RXJS_INFERENCE_CODE_CACHE_DIR: cacheDir,
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toHaveLength(3);
    expect(run.stderr).not.toContain('CODE-CACHE');
    expect(JSON.parse(/MODULES (.*)/.exec(run.stderr)![1])).toContain(MAIN);
    expect(cacheFiles(cacheDir)).toEqual([]);
  });

  // Root can hand a folder to another user; others cannot (the check is the same, it only needs a second owner).
  (process.getuid?.() === 0 ? it : it.skip)("as root: uses no cache folder of another user's", async () => {
    const expected = jsonLines((await runWithPreloads([], { RXJS_INFERENCE_CODE_CACHE: '0' })).stdout);
    const theirs = join(dir, 'cache-theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    const run = await runWithPreloads([], { RXJS_INFERENCE_CODE_CACHE_DIR: theirs });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(jsonLines(run.stdout)).toEqual(expected);
    expect(readdirSync(theirs)).toEqual([]);
  });

  it('runs a TensorFlow.js model.json (layers) on the wasm backend', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { writeSmallLayersModel } = await import('../../scripts/fixtures/tfjs');
    tf.env().set('IS_TEST', true);
    await tf.setBackend('cpu');
    const layers = await writeSmallLayersModel(tf, join(dir, 'tfjs'));
    const rows = [
      [0.1, 0.2, 0.3, 0.4],
      [-1, 0.5, 2, 0],
    ];
    const result = await run(
      ['predict', '-m', layers.modelJson, '-q', '--verbose'],
      rows.map((r) => JSON.stringify({ input: r })).join('\n'),
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("TensorFlow.js 'wasm' backend");
    jsonLines<{ output: number[] }>(result.stdout).forEach((r, i) =>
      r.output.forEach((v, k) => expect(v).toBeCloseTo(layers.reference(rows[i])[k], 5)),
    );
  });

  it('processes 100,000 lines with bounded memory', async () => {
    const rows = featureRows(1000, 11);
    const text = Array.from({ length: 100 }, () => rows.map((r) => JSON.stringify(r)).join('\n')).join('\n') + '\n';
    const input = join(dir, 'big.jsonl');
    writeFileSync(input, text);
    const output = join(dir, 'big.out.jsonl');
    const summary = join(dir, 'big.summary.json');
    const options = '--output-format argmax --verbose --no-progress --summary-json'.split(' ');
    const result = await run(['predict', '-m', model, '-i', input, '-o', output, ...options, summary]);
    expect(result.code).toBe(0);
    const s = JSON.parse(readFileSync(summary, 'utf8'));
    expect(s).toMatchObject({ recordsIn: 100_000, recordsOut: 100_000, recordsFailed: 0 });
    expect(s.peakRssBytes).toBeLessThan(400 * 1024 * 1024);
    expect(result.stderr).toMatch(/peak RSS {4}\d+\.\d MB/);
    const out = readFileSync(output, 'utf8');
    expect(out.split('\n').filter(Boolean)).toHaveLength(100_000);
    expect(JSON.parse(out.slice(out.lastIndexOf('\n', out.length - 2) + 1))).toMatchObject({ line: 100_000 });
    expect(FEATURES).toBe(8);
  }, 60_000);
});
