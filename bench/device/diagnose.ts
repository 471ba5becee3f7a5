// `node bench/device/diagnose.js MODE` on a lent device (bench/device/run.sh step `diagnose`), or
// `npx tsx bench/device/diagnose.ts MODE` here: the side experiments behind the fast-hardware rows (issue 11; results
// in docs/performance.md, "Third device session"). Each prints one line per variant, interleaved, median of 5–7.
//   threads   Identity 512 (P6's pair: a fresh-buffer loop at 512) and the MLP 512→1024→1024→10 (F's: pre-stacked at
//             2048): raw loop vs runInference in its default config, each pair with the same session options —
//             onnxruntime's default (a pool with one pinned thread per core), one intra-op thread, one per core set
//             explicitly (not pinned), half the cores, the default without spinning
//   caps      runInference with maxBatchSize 512 / 1024 / 2048 against the loop a user writes (a fresh buffer per
//             batch, one view per element): Identity 512 at batch 512, the MLP at 2048
//   sizes     the MLP (`sizes webgpu`: through WebGPU): the pre-stacked raw loop, a loop stacking into one reused
//             buffer, and runInference by default, with `variance: 0` and with a fixed batch; runs and distinct batch
//             sizes per round
//   affinity  the CPU mask of every thread of this process before and after onnxruntime creates a session
//   profile-library, profile-reused  ten rounds of one MLP variant, to run under `node --cpu-prof`
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { identity, mlp } from '../../scripts/fixtures/onnx';
import { loadLibrary } from '../lib';
import { pipeline } from '../pipeline';
import { rawLoops } from '../rawLoops';
import { interleaved, median, pairedRatio, rate } from '../stats';

const { lib } = loadLibrary();
const WIDTH = 512;
const N = 65536;
const CORES = availableParallelism();
type Options = ort.InferenceSession.SessionOptions;
const NO_SPINNING: Options = { extra: { session: { intra_op: { allow_spinning: '0' } } } };

/** A model of the two the rows use, its input name and N elements cycling over 256 distinct ones. */
function workload(model: 'identity' | 'mlp') {
  const fixture = model === 'identity' ? identity(WIDTH) : mlp([WIDTH, 1024, 1024, 10]);
  const input = model === 'identity' ? 'x' : 'input';
  const distinct = fixture
    .sample(256, 1)
    .map((e) => (e as unknown as Record<string, { data: Float32Array }>)[input].data);
  const elements = Array.from({ length: N }, (_, i) => distinct[i % distinct.length]);
  return { bytes: fixture.bytes, input, elements };
}

/** The loop a user writes: a fresh buffer per batch, one run, one view per element of the first output. */
function userLoop(session: ort.InferenceSession, input: string, elements: Float32Array[], batch: number) {
  return () =>
    rate(N, async () => {
      for (let start = 0; start < N; start += batch) {
        const size = Math.min(batch, N - start);
        const data = new Float32Array(size * WIDTH);
        for (let p = 0; p < size; p++) data.set(elements[start + p], p * WIDTH);
        const out = await session.run({ [input]: new ort.Tensor('float32', data, [size, WIDTH]) });
        const values = out[session.outputNames[0]].data as Float32Array;
        const width = values.length / size;
        for (let p = 0; p < size; p++) values.subarray(p * width, (p + 1) * width);
      }
    });
}

type Library = typeof lib;

/** A warmed long-lived pipeline and the variant that pushes all N elements through it. */
async function libraryVariant(config: ConstructorParameters<Library['OnnxModelHandler']>[0], elements: Float32Array[]) {
  const pipe = pipeline<Float32Array>(lib, new lib.OnnxModelHandler<Float32Array>(config));
  await pipe.round(elements.slice(0, 4096));
  return { run: () => rate(N, () => pipe.round(elements)), close: () => pipe.close() };
}

/** One line per variant: its median rate, and its ratio to (and extra cost per element over) its baseline variant. */
function report(tag: string, values: Record<string, number[]>, baseline: (key: string) => string) {
  for (const [key, xs] of Object.entries(values)) {
    const base = values[baseline(key)];
    const cost = 1e6 / median(xs) - 1e6 / median(base);
    console.log(
      `${tag} ${key.padEnd(18)} ${Math.round(median(xs)).toLocaleString('en-US').padStart(10)}/s ` +
        `${(median(xs) / median(base)).toFixed(2)}× of ${baseline(key)} (paired ${pairedRatio(xs, base).toFixed(2)}×)` +
        (key === baseline(key) ? '' : `, ${cost.toFixed(2)} µs per element more`),
    );
  }
}

async function threads() {
  const configs: Record<string, Options> = {
    default: {},
    oneThread: { intraOpNumThreads: 1 },
    explicitAll: { intraOpNumThreads: CORES },
    halfThreads: { intraOpNumThreads: Math.max(1, CORES >> 1) },
    noSpinning: NO_SPINNING,
  };
  for (const model of ['identity', 'mlp'] as const) {
    const { bytes, input, elements } = workload(model);
    const variants: Record<string, () => Promise<number>> = {};
    const closers: (() => void)[] = [];
    const caps: string[] = [];
    for (const [name, sessionOptions] of Object.entries(configs)) {
      // The library in its default configuration (its batch cap follows the session's threads, printed below); the
      // raw loop as P6 has it for Identity (a fresh buffer per batch of 512), pre-stacked at 2048 for the MLP (F).
      const config = { modelUri: bytes, sessionOptions };
      caps.push(`${name} ${new lib.OnnxModelHandler(config).batchConfig().maxBatchSize}`);
      const library = await libraryVariant(config, elements);
      closers.push(library.close);
      const session = await ort.InferenceSession.create(bytes, sessionOptions);
      variants[`raw-${name}`] =
        model === 'identity' ? userLoop(session, input, elements, 512) : rawLoops(elements, WIDTH).raw(2048, session);
      variants[`library-${name}`] = library.run;
    }
    console.log(`${model}: the library's maxBatchSize per configuration: ${caps.join(', ')}`);
    report(model, await interleaved(variants, { reps: 5, warmup: 3 }), (key) => key.replace('library-', 'raw-'));
    for (const close of closers) close();
  }
}

async function caps() {
  for (const model of ['identity', 'mlp'] as const) {
    const { bytes, input, elements } = workload(model);
    const session = await ort.InferenceSession.create(bytes);
    const variants: Record<string, () => Promise<number>> = {
      raw: userLoop(session, input, elements, model === 'identity' ? 512 : 2048),
    };
    const closers: (() => void)[] = [];
    for (const cap of [512, 1024, 2048]) {
      const library = await libraryVariant({ modelUri: bytes, batch: { maxBatchSize: cap } }, elements);
      closers.push(library.close);
      variants[`library${cap}`] = library.run;
    }
    report(model, await interleaved(variants, { reps: 7, warmup: 2 }), () => 'raw');
    for (const close of closers) close();
  }
}

async function sizes(device: 'cpu' | 'webgpu') {
  const { bytes, elements } = workload('mlp');
  const batch = device === 'webgpu' ? 4096 : 2048;
  const configs = {
    library: {},
    libraryVariance0: { batch: { variance: 0 } },
    libraryFixed: { batch: { minBatchSize: batch, maxBatchSize: batch } },
  };
  const libraries: Record<string, Awaited<ReturnType<typeof libraryVariant>>> = {};
  for (const [key, extra] of Object.entries(configs)) {
    libraries[key] = await libraryVariant({ modelUri: bytes, device, ...extra }, elements);
  }
  // Created after the library's sessions: WebGPU sessions are not to be created while another one runs.
  const options: Options = { executionProviders: [device] };
  const [preStacked, reusing] = await Promise.all([
    ort.InferenceSession.create(bytes, options),
    ort.InferenceSession.create(bytes, options),
  ]);
  const loops = rawLoops(elements, WIDTH);
  let current = '';
  const runs: Record<string, number> = {};
  const distinct: Record<string, Set<number>> = {};
  // Every session's runs are counted, the library's too (its sessions are made inside the handler).
  const proto = (ort.InferenceSession as unknown as { prototype: ort.InferenceSession }).prototype;
  const run = proto.run;
  proto.run = function (this: ort.InferenceSession, ...args: Parameters<typeof run>) {
    const feeds = args[0] as Record<string, ort.Tensor>;
    runs[current] = (runs[current] ?? 0) + 1;
    (distinct[current] ??= new Set()).add(feeds[Object.keys(feeds)[0]].dims[0]);
    return run.apply(this, args);
  } as typeof run;
  const variants: Record<string, () => Promise<number>> = {
    raw: loops.raw(batch, preStacked),
    rawReusing: loops.rawReusing(batch, reusing),
    ...Object.fromEntries(Object.entries(libraries).map(([key, library]) => [key, library.run])),
  };
  const counted = Object.fromEntries(
    Object.entries(variants).map(([key, variant]) => [key, () => ((current = key), variant())]),
  );
  const rounds = 7;
  const values = await interleaved(counted, { reps: rounds - 2, warmup: 2 });
  proto.run = run;
  report(`${device} sizes`, values, () => 'raw');
  for (const key of Object.keys(variants)) {
    console.log(
      `${device} sizes ${key}: ${((runs[key] ?? 0) / rounds).toFixed(1)} runs per round, ` +
        `${distinct[key]?.size ?? 0} distinct batch sizes in ${rounds} rounds`,
    );
  }
  for (const library of Object.values(libraries)) library.close();
}

function affinity(label: string) {
  const threads = readdirSync('/proc/self/task').map((task) => {
    const status = readFileSync(`/proc/self/task/${task}/status`, 'utf8');
    return /Cpus_allowed_list:\s*(.*)/.exec(status)?.[1] ?? '?';
  });
  console.log(`affinity ${label}: ${threads.length} threads, CPU masks ${threads.join(' ')}`);
}

async function profile(which: 'library' | 'reused') {
  const { bytes, elements } = workload('mlp');
  let round: () => Promise<number>;
  let close = () => {};
  if (which === 'library') {
    const library = await libraryVariant({ modelUri: bytes }, elements);
    [round, close] = [library.run, library.close];
  } else {
    round = rawLoops(elements, WIDTH).rawReusing(2048, await ort.InferenceSession.create(bytes));
  }
  await round();
  const rates: number[] = [];
  for (let i = 0; i < 10; i++) rates.push(await round());
  console.log(`profile ${which}: median ${Math.round(median(rates)).toLocaleString('en-US')}/s over 10 rounds`);
  close();
}

async function main() {
  const [mode, arg] = process.argv.slice(2);
  console.log(`diagnose ${mode ?? ''}: ${CORES} cores`);
  if (mode === 'threads') await threads();
  else if (mode === 'caps') await caps();
  else if (mode === 'sizes') await sizes(arg === 'webgpu' ? 'webgpu' : 'cpu');
  else if (mode === 'affinity') {
    const { bytes } = workload('identity');
    affinity('before any session');
    const session = await ort.InferenceSession.create(bytes);
    await session.run({ x: new ort.Tensor('float32', new Float32Array(WIDTH), [1, WIDTH]) });
    affinity('with a default session');
    await ort.InferenceSession.create(bytes, { intraOpNumThreads: CORES });
    affinity(`and one with intraOpNumThreads ${CORES}`);
  } else if (mode === 'profile-library' || mode === 'profile-reused')
    await profile(mode === 'profile-library' ? 'library' : 'reused');
  else {
    console.error('usage: diagnose threads | caps | sizes [cpu|webgpu] | affinity | profile-library | profile-reused');
    process.exit(2);
  }
  process.exit(0);
}
void main();
