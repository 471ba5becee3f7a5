import { availableParallelism, cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { mlp } from '../../scripts/fixtures/onnx';
import type { Library } from '../lib';
import { pipeline } from '../pipeline';
import type { BenchRow } from '../result';
import { rawLoops } from '../rawLoops';
import { fmt, interleaved, median, pairedRatio, rate } from '../stats';
import { row } from './onnx';

/** Where the fast-hardware rows run their model. */
export type FastDevice = 'cpu' | 'webgpu';

/** The issue's MLP, and the wide one whose raw loop gains most from large GPU batches. */
const MODELS = {
  mlp: [512, 1024, 1024, 10],
  wide: [1024, 2048, 2048, 2048, 256],
} as const;

/** Batch sizes the raw loop is scanned over: the raw loop gets its best one, the library its default config. */
const SCAN: Record<FastDevice, readonly number[]> = {
  cpu: [256, 512, 1024, 2048],
  webgpu: [256, 1024, 2048, 4096],
};

/**
 * The fast-hardware rows of issue 11 (group `fast`): an MLP through `runInference` against a raw `session.run` loop
 * at its best batch, on a many-core CPU or through WebGPU, in one process, interleaved. Meant for a machine with
 * ≥ 16 cores and a GPU; on this 2-core machine it runs too, but the figures then say nothing about fast hardware.
 *
 * Variants (all long-lived pipelines, model loaded once, like the raw session):
 * - `inline`: `OnnxModelHandler` with the default configuration (the row with the target);
 * - `worker`: `OnnxWorkerModelHandler` with the default configuration (pool size, intra-op threads, in-flight
 *   batches all default): the handler that can overlap stacking on the main thread with the model in a worker;
 * - `inlineUnchecked`, `workerUnchecked`: the defaults with `allowNonFinite: true` (what the input check costs);
 * - `workerN`: explicit pool sizes, each with one batch more in flight than workers (info rows, to pick defaults).
 */
export async function fastHardwareScenario({
  lib,
  device,
  model = 'mlp',
  elements: n,
  reps,
  log,
  workerPools = [],
  only,
}: {
  lib: Library;
  device: FastDevice;
  model?: keyof typeof MODELS;
  elements: number;
  reps: number;
  log: (line: string) => void;
  /** Explicit worker pool sizes measured as info rows (each with `concurrent: workers + 1`). */
  workerPools?: readonly number[];
  /** Only these library variants (`inline`, `worker`, `worker1`, …), e.g. one per process on a GPU. @default all */
  only?: readonly string[];
}): Promise<BenchRow[]> {
  const dims = MODELS[model];
  const width = dims[0];
  const name = `MLP ${dims.join('→')}`;
  const where = device === 'webgpu' ? 'WebGPU' : `the CPU (${availableParallelism()} cores)`;
  const fixture = mlp([...dims]);
  const distinct = fixture.sample(256, 1).map((e) => e.input.data as Float32Array);
  const elements = Array.from({ length: n }, (_, i) => distinct[i % distinct.length]);
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: device === 'webgpu' ? ['webgpu'] : ['cpu'],
  };
  const handlerDevice = { modelUri: fixture.bytes, device } as const;
  const inline = new lib.OnnxModelHandler(handlerDevice);
  const worker = new lib.OnnxWorkerModelHandler(handlerDevice);
  const unchecked = { ...handlerDevice, allowNonFinite: true } as const;
  const all = {
    inline: pipeline<Float32Array>(lib, inline),
    worker: pipeline<Float32Array>(lib, worker),
    inlineUnchecked: pipeline<Float32Array>(lib, new lib.OnnxModelHandler(unchecked)),
    workerUnchecked: pipeline<Float32Array>(lib, new lib.OnnxWorkerModelHandler(unchecked)),
    ...Object.fromEntries(
      workerPools.map((w) => [
        `worker${w}`,
        pipeline<Float32Array>(lib, new lib.OnnxWorkerModelHandler({ ...handlerDevice, workers: w }), {
          concurrent: w + 1,
        }),
      ]),
    ),
  } as Record<string, ReturnType<typeof pipeline<Float32Array>>>;
  const strange = (only ?? []).filter((key) => !(key in all));
  if (strange.length > 0) {
    for (const pipe of Object.values(all)) pipe.close();
    throw new Error(`--fast-variants: no variant ${strange.join(', ')} (variants: ${Object.keys(all).join(', ')})`);
  }
  const pipes = Object.fromEntries(Object.entries(all).filter(([key]) => only === undefined || only.includes(key)));
  for (const [key, pipe] of Object.entries(all)) if (!(key in pipes)) pipe.close();
  // Every model loaded (and warmed) BEFORE the raw session exists: on WebGPU a worker's session created while the raw
  // session runs on the main thread crashes onnxruntime (the library serialises its own WebGPU work, not the bench's).
  // A device the library cannot use here (no GPU, no Vulkan loader) gives the row that says so, as the raw session's
  // failure below does; it used to end the whole bench with no results written.
  try {
    for (const pipe of Object.values(pipes)) await pipe.round(elements.slice(0, 4096));
  } catch (error) {
    log(`  ${device}: the library cannot run ${name} (${String(error).split('\n')[0]})`);
    for (const pipe of Object.values(pipes)) pipe.close();
    return [unavailable(`fast hardware: ${name} on ${where} vs its raw loop`, String(error).split('\n')[0])];
  }

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(fixture.bytes, sessionOptions);
  } catch (error) {
    log(`  ${device}: no session (${String(error).split('\n')[0]})`);
    for (const pipe of Object.values(pipes)) pipe.close();
    return [unavailable(`fast hardware: ${name} on ${where} vs its raw loop`, String(error).split('\n')[0])];
  }
  // The raw loop in its best form (inputs stacked once per batch size), and as a user writes it (`rawStacking`).
  const loops = rawLoops(elements, width);
  const raw = (size: number) => loops.raw(size, session);
  // The two stacking loops each on a session of their own, as each library pipeline has: onnxruntime's intra-op thread
  // pool is per session, and a session whose pool ran last runs faster (P1, issue 11), which favoured variants that
  // shared one session.
  const stackingSession = await ort.InferenceSession.create(fixture.bytes, sessionOptions);
  const reusingSession = await ort.InferenceSession.create(fixture.bytes, sessionOptions);
  const rawStacking = (size: number) => loops.rawStacking(size, stackingSession);
  const rawReusing = (size: number) => loops.rawReusing(size, reusingSession);
  await raw(SCAN[device][1])(); // warm-up (shader compilation, thread pool)
  await loops.raw(SCAN[device][1], stackingSession)();
  await loops.raw(SCAN[device][1], reusingSession)();
  const scan: Record<number, number> = {};
  for (const size of SCAN[device]) scan[size] = Math.max(await raw(size)(), await raw(size)());
  const best = Number(Object.entries(scan).sort((a, b) => b[1] - a[1])[0][0]);
  log(
    `  ${device} ${name} raw scan: ${Object.entries(scan)
      .map(([b, r]) => `${b}: ${fmt(r)}/s`)
      .join(', ')} → best ${best}`,
  );

  const variants: Record<string, () => Promise<number>> = { raw: raw(best) };
  for (const [key, pipe] of Object.entries(pipes)) variants[key] = () => rate(n, () => pipe.round(elements));
  variants.rawStacking = rawStacking(best);
  variants.rawReusing = rawReusing(best);
  const values = await interleaved(variants, { reps, warmup: 2 });
  // The two default configurations again, each next to the raw loop alone: in the interleave above, other sessions run
  // between a pipeline's rounds, which slowed the library's rounds on 2 cores (P1: 0.73–0.77× there, 0.95–1.00× alone).
  const alone: Record<string, Record<'raw' | 'library', number[]>> = {};
  for (const key of ['inline', 'worker'].filter((k) => k in pipes)) {
    alone[key] = await interleaved(
      { raw: raw(best), library: () => rate(n, () => pipes[key].round(elements)) },
      { reps, warmup: 1 },
    );
  }
  for (const pipe of Object.values(pipes)) pipe.close();
  await Promise.all([session.release(), stackingSession.release(), reusingSession.release()]);

  const rawRate = median(values.raw);
  const paired = (key: string) => pairedRatio(values[key], values.raw);
  const spread = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
  log(
    `  ${device} ${name}: ` +
      Object.entries(values)
        .map(([k, xs]) => `${k} ${spread(xs)}`)
        .join(', '),
  );
  const machine = `${device === 'webgpu' ? 'WebGPU, ' : ''}${availableParallelism()} cores (${cpus()[0]?.model ?? '?'})`;
  const note =
    `${machine}; median of ${reps}, ${fmt(n)} elements per round into a long-lived pipeline, interleaved, 2 warm-up ` +
    `rounds; raw loop: inputs stacked once, best batch ${best} of ${SCAN[device].join('/')}`;
  const target = model === 'mlp' ? 0.9 : undefined;
  const ratioRow = (key: string, what: string, why: string, withTarget: boolean): BenchRow =>
    row(
      'F',
      `fast hardware: ${name} on ${where}, ${what} vs its raw loop`,
      median(values[key]),
      rawRate,
      withTarget ? target : undefined,
      {
        unit: 'elements/s',
        note: `${note}; ${why}; paired per-rep ratio ${paired(key).toFixed(2)}×`,
      },
    );
  const rows: BenchRow[] = [];
  if ('inline' in values) {
    const cap = inline.batchConfig().maxBatchSize;
    rows.push(
      ratioRow('inline', 'runInference (default config)', `OnnxModelHandler default config (cap ${cap})`, true),
    );
  }
  if ('worker' in values) {
    rows.push(
      ratioRow('worker', 'OnnxWorkerModelHandler (default config)', 'OnnxWorkerModelHandler default config', true),
    );
  }
  for (const [key, pair] of Object.entries(alone)) {
    const handler = key === 'inline' ? 'runInference' : 'OnnxWorkerModelHandler';
    rows.push(
      row(
        'F',
        `fast hardware: ${name} on ${where}, ${handler} (default config) vs its raw loop, the two alone in one interleave`,
        median(pair.library),
        median(pair.raw),
        undefined,
        {
          unit: 'elements/s',
          note:
            `${note}; no target: no other variant runs between their rounds; paired per-rep ratio ` +
            `${pairedRatio(pair.library, pair.raw).toFixed(2)}×`,
        },
      ),
    );
  }
  for (const [key, handler] of [
    ['inlineUnchecked', 'runInference'],
    ['workerUnchecked', 'OnnxWorkerModelHandler'],
  ] as const) {
    if (!(key in values)) continue;
    const why = 'no target: what the NaN/Infinity check of the inputs costs (default on)';
    rows.push(ratioRow(key, `${handler} with allowNonFinite: true`, why, false));
  }
  for (const w of workerPools.filter((pool) => `worker${pool}` in values)) {
    rows.push(ratioRow(`worker${w}`, `${w} worker(s), concurrent ${w + 1},`, 'no target: picks the defaults', false));
  }
  rows.push(
    ratioRow(
      'rawStacking',
      'raw loop stacking a fresh buffer per batch',
      'no target: what materialising batch inputs costs any pipeline',
      false,
    ),
    ratioRow(
      'rawReusing',
      'raw loop stacking into one reused buffer',
      'no target: the most a pipeline that copies each element into its batch can reach inline',
      false,
    ),
  );
  return rows;
}

/** A row for a device that could not run here (no GPU, no Vulkan loader). */
function unavailable(name: string, why: string): BenchRow {
  return { id: 'F', name, value: NaN, unit: '×', target: '≥ 0.9×', pass: false, note: `not measured: ${why}` };
}
