import { Subject } from 'rxjs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Library } from '../lib';
import type { BenchRow } from '../result';
import { fmt } from '../stats';

/** A full garbage collection, where the runtime lets us ask for one (so that heap samples are live data only). */
function collector(): () => void {
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : () => undefined;
}

const MiB = 1024 * 1024;

/**
 * L (soak, #13 item 3): `elements` numbers through one long-lived `runInference` subscription fed by a hot Subject, a
 * chunk per macrotask, so that every chunk ends a burst and is flushed on its own (hundreds of thousands of flushes).
 * Heap (after a full GC) and RSS are sampled at every tenth; growth is measured from the first tenth (warm) to the
 * end. Before the fix each flush left ~105 bytes behind until the stream ended.
 */
export async function soakScenario({
  lib,
  elements,
  chunk,
  log,
}: {
  lib: Library;
  elements: number;
  chunk: number;
  log: (line: string) => void;
}): Promise<BenchRow[]> {
  const gc = collector();
  const noop = lib.modelHandler({ loadModel: () => undefined, runInference: (batch: readonly number[]) => batch });
  const source = new Subject<number>();
  let received = 0;
  let sum = 0;
  const done = new Promise<void>((resolve, reject) =>
    source
      .pipe(lib.runInference(noop, { metrics: false, maxBufferedElements: chunk * 4 }))
      .subscribe({ next: (x) => ((received += 1), (sum += x)), error: reject, complete: resolve }),
  );
  const samples: { at: number; heap: number; rss: number }[] = [];
  const sample = (at: number): void => {
    gc();
    const { heapUsed, rss } = process.memoryUsage();
    samples.push({ at, heap: heapUsed, rss });
  };
  const tenth = Math.floor(elements / 10);
  const started = performance.now();
  let sent = 0;
  while (sent < elements) {
    const end = Math.min(elements, sent + chunk);
    for (; sent < end; sent++) source.next(sent % 1000);
    if (sent % tenth < chunk) sample(sent);
    // A macrotask between chunks: the engine's end-of-burst flush runs, as with a socket or a queue.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  source.complete();
  await done;
  const seconds = (performance.now() - started) / 1000;
  if (received !== elements) throw new Error(`soak: expected ${elements} results, got ${received}`);
  const expectedSum =
    Array.from({ length: elements % 1000 }, (_, i) => i).reduce((a, b) => a + b, 0) +
    Math.floor(elements / 1000) * 499_500;
  if (sum !== expectedSum) throw new Error(`soak: results do not add up (${sum} ≠ ${expectedSum})`);
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const heapGrowth = (last.heap - first.heap) / MiB;
  const rssGrowth = (last.rss - first.rss) / MiB;
  const flushes = Math.ceil(elements / chunk);
  log(
    `  soak: ${fmt(elements)} elements, ${fmt(flushes)} flushes in ${seconds.toFixed(1)} s; heap ` +
      samples.map((s) => (s.heap / MiB).toFixed(1)).join(' → ') +
      ` MiB; RSS ${(first.rss / MiB).toFixed(0)} → ${(last.rss / MiB).toFixed(0)} MiB`,
  );
  const note =
    `${fmt(elements)} numbers from a hot Subject, ${fmt(chunk)} per macrotask (${fmt(flushes)} flushes), no-op model; ` +
    `heap after a full GC sampled every tenth: ${samples.map((s) => (s.heap / MiB).toFixed(1)).join(', ')} MiB; ` +
    `RSS ${(first.rss / MiB).toFixed(0)} → ${(last.rss / MiB).toFixed(0)} MiB (${rssGrowth >= 0 ? '+' : ''}${rssGrowth.toFixed(1)}); ` +
    `${fmt(elements / seconds)} elements/s`;
  return [
    {
      id: 'L',
      name: 'soak: heap growth of one long-lived runInference stream (first tenth → end)',
      value: heapGrowth,
      unit: 'MiB',
      target: '≤ 2 MiB',
      pass: heapGrowth <= 2,
      note,
    },
  ];
}
