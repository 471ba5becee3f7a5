import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Subject } from 'rxjs';
import type { Library } from '../lib';
import type { BenchRow } from '../result';
import { fmt } from '../stats';

/** `global.gc`, exposed at run time (the bench runs without `--expose-gc`). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Heap flat: `elements` numbers through a hot Subject (250 per macrotask, so the engine drains between chunks, as in
 * a service) into `runInference` with a no-op model, one long-lived subscription. The heap after a full GC is sampled
 * every million elements; the row compares the last sample with the first (taken after the first million, warm).
 */
export async function heapScenario({
  lib,
  elements,
  log,
}: {
  lib: Library;
  elements: number;
  log: (line: string) => void;
}): Promise<BenchRow[]> {
  const gc = exposeGc();
  const noop = lib.modelHandler({ loadModel: () => undefined, runInference: (batch: readonly number[]) => batch });
  const input = new Subject<number>();
  let received = 0;
  const subscription = input.pipe(lib.runInference(noop)).subscribe(() => received++);
  const CHUNK = 250;
  const EVERY = 1_000_000;
  const samples: number[] = [];
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      for (let i = 0; i < CHUNK; i++) input.next(sent++);
      if (sent % EVERY === 0) {
        gc();
        samples.push(process.memoryUsage().heapUsed);
      }
      if (sent < elements) setImmediate(tick);
      else setImmediate(resolve);
    };
    setImmediate(tick);
  });
  subscription.unsubscribe();
  if (received !== elements) throw new Error(`heap check: ${received} results for ${elements} elements`);
  const [first, last] = [samples[0], samples[samples.length - 1]];
  const growthMiB = (last - first) / 2 ** 20;
  const mib = (b: number) => fmt(b / 2 ** 20, 1);
  log(`  heap after GC per million: ${samples.map(mib).join(', ')} MiB`);
  return [
    {
      id: 'H',
      name: `heap flat: ${fmt(elements)} elements through a hot Subject (no-op model), growth after the first million`,
      value: growthMiB,
      unit: 'MiB',
      target: '≤ 2 MiB',
      pass: growthMiB <= 2,
      note:
        `${CHUNK} elements per macrotask, one subscription, heap used after a full GC every ${fmt(EVERY)}: ` +
        `${samples.map(mib).join(', ')} MiB`,
    },
  ];
}
