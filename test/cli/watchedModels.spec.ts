import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchedModels } from '../../src/cli/watchedModels';

describe('--watch models (watchedModels)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-watched-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Subscribes, waits until `count` models came (or 4 s), unsubscribes, returns their ids. */
  async function watch(model: string, count: number, whileWatching?: () => void): Promise<string[]> {
    const seen: string[] = [];
    const subscription = watchedModels(model, join(dir, '*.onnx'), 20, () => undefined).subscribe((m) =>
      seen.push(m.modelId),
    );
    try {
      await new Promise((r) => setTimeout(r, 200));
      whileWatching?.();
      for (let i = 0; i < 200 && seen.length < count; i++) await new Promise((r) => setTimeout(r, 20));
      return seen;
    } finally {
      subscription.unsubscribe();
    }
  }

  const touch = (path: string, msFromNow: number): void => {
    writeFileSync(path, 'model');
    utimesSync(path, new Date(Date.now() + msFromNow), new Date(Date.now() + msFromNow));
  };

  it('loads a file newer than the start even when the first poll already sees it (not taken as the baseline)', async () => {
    const v1 = join(dir, 'v1.onnx');
    touch(v1, -60_000);
    // Already there when the first poll runs, but written "after the start": as if written between the start of the
    // job and the end of the (asynchronous) first poll.
    touch(join(dir, 'v2.onnx'), 10_000);
    expect(await watch(v1, 2)).toEqual([v1, join(dir, 'v2.onnx')]);
  });

  it('ignores files older than the start, then loads a newer one', async () => {
    const v1 = join(dir, 'v1.onnx');
    touch(v1, -60_000);
    touch(join(dir, 'v0-newer-than-v1.onnx'), -30_000);
    const seen = await watch(v1, 2, () => touch(join(dir, 'v2.onnx'), 1_000));
    expect(seen).toEqual([v1, join(dir, 'v2.onnx')]);
  });

  it('does not reload the starting model when it is the newest file', async () => {
    const v1 = join(dir, 'v1.onnx');
    touch(v1, 10_000);
    expect(await watch(v1, 2)).toEqual([v1]);
  });
});
