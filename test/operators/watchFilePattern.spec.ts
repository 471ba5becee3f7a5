import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, take, toArray, VirtualTimeScheduler } from 'rxjs';
import { readFile } from 'node:fs/promises';
import { Subject } from 'rxjs';
import type { ModelMetadata } from '../../src/core/types';
import { MetricsRegistry } from '../../src/metrics/MetricsRegistry';
import { modelHandler } from '../../src/models/custom/modelHandlerFactory';
import { runInference } from '../../src/operators/runInference';
import { watchFilePattern } from '../../src/operators/watchFilePattern';

// The real glob, wrapped so that a test can count calls, hold one back, or make one fail.
jest.mock('glob', () => {
  const actual = jest.requireActual('glob');
  return { ...actual, glob: jest.fn(actual.glob) };
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const globMock = require('glob').glob as jest.Mock;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'watch-file-pattern-'));
  globMock.mockClear();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a file whose modification time is `t` seconds after a fixed epoch (deterministic ordering). */
async function model(name: string, t: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, name);
  const time = new Date(Date.UTC(2026, 0, 1) + t * 1000);
  await utimes(path, time, time);
  return path;
}

/** Waits (in real time, by event-loop turns) until `condition` holds; fails after 5 s instead of hanging. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Drives a watcher in virtual time: each `poll()` runs the next scheduled poll and waits for it to finish. */
function harness(pattern: string, config: Parameters<typeof watchFilePattern>[1] = {}) {
  const scheduler = new VirtualTimeScheduler();
  const values: Array<[number, string]> = [];
  let error: unknown;
  const subscription = watchFilePattern(pattern, { intervalMs: 10, scheduler, cwd: dir, ...config }).subscribe({
    next: (m: ModelMetadata) => values.push([scheduler.now(), m.modelName]),
    error: (e) => (error = e),
  });
  // A poll has finished when the next one is scheduled (or the stream errored).
  const settled = (): Promise<void> => until(() => scheduler.actions.length > 0 || error !== undefined);
  return {
    scheduler,
    values,
    subscription,
    error: () => error,
    settled,
    async poll(): Promise<void> {
      scheduler.flush();
      await settled();
    },
  };
}

describe('watchFilePattern', () => {
  it('emits the newest existing file at subscription: absolute path as modelId, name without extension', async () => {
    await model('resnet-v1.onnx', 1);
    const newest = await model('resnet-v2.onnx', 2);
    await model('notes.txt', 3);
    const first = await firstValueFrom(watchFilePattern(join(dir, '*.onnx')));
    expect(first).toEqual({ modelId: newest, modelName: 'resnet-v2' });
  });

  it('follows the marble diagram of its documentation', async () => {
    // output:  a 29ms b 29ms c
    await model('a.onnx', 1);
    const h = harness('*.onnx');
    await h.settled(); // poll at 0
    await h.poll(); // 10
    await h.poll(); // 20
    await model('b.onnx', 2); // "written at 25 ms"
    await h.poll(); // 30
    await h.poll(); // 40
    await rm(join(dir, 'b.onnx')); // "deleted at 45 ms"
    await h.poll(); // 50
    await model('c.onnx', 3); // "written at 55 ms"
    await h.poll(); // 60
    await h.poll(); // 70
    expect(h.values).toEqual([
      [0, 'a'],
      [30, 'b'],
      [60, 'c'],
    ]);
    expect(globMock).toHaveBeenCalledTimes(8);
    h.subscription.unsubscribe();
  });

  it('emits nothing while nothing matches, then the first file that appears', async () => {
    const h = harness('models/**/*.onnx');
    await h.settled();
    await h.poll();
    expect(h.values).toEqual([]);
    await mkdir(join(dir, 'models', 'v7'), { recursive: true });
    await model('models/v7/net.onnx', 5);
    await h.poll();
    expect(h.values).toEqual([[20, 'net']]);
    h.subscription.unsubscribe();
  });

  it('breaks ties of modification time by path, and emits a tie that sorts later', async () => {
    await model('m-001.onnx', 1);
    await model('m-002.onnx', 1);
    const h = harness('*.onnx');
    await h.settled();
    await model('m-000.onnx', 1); // same time, smaller path: not newer
    await h.poll();
    await model('m-003.onnx', 1); // same time, greater path: newer
    await h.poll();
    expect(h.values).toEqual([
      [0, 'm-002'],
      [20, 'm-003'],
    ]);
    h.subscription.unsubscribe();
  });

  it('does not emit a file again when it is rewritten, nor an older file, nor a directory', async () => {
    await model('a.onnx', 5);
    const h = harness('*');
    await h.settled();
    await model('a.onnx', 9); // same path, newer time
    await h.poll();
    await model('old.onnx', 7); // newer than a's first time but older than its rewrite
    await mkdir(join(dir, 'dir.onnx'));
    await h.poll();
    await model('new.onnx', 10);
    await h.poll();
    expect(h.values).toEqual([
      [0, 'a'],
      [30, 'new'],
    ]);
    h.subscription.unsubscribe();
  });

  it('counts a symlink with its target’s modification time', async () => {
    await model('v1.onnx', 1);
    const h = harness('*.onnx');
    await h.settled();
    const target = await model('target.bin', 50);
    await symlink(target, join(dir, 'latest.onnx'));
    await h.poll();
    expect(h.values).toEqual([
      [0, 'v1'],
      [10, 'latest'],
    ]);
    h.subscription.unsubscribe();
  });

  it("initial: 'default' emits the handler's default model at once, then only files newer than the first poll's", async () => {
    await model('old.onnx', 1);
    const h = harness('*.onnx', { initial: 'default' });
    expect(h.values).toEqual([[0, '']]);
    await h.settled();
    await h.poll();
    await model('new.onnx', 2);
    await h.poll();
    expect(h.values).toEqual([
      [0, ''],
      [20, 'new'],
    ]);
    h.subscription.unsubscribe();
  });

  it("initial: 'none' emits nothing at first; with nothing matching at first, the first file is new", async () => {
    await model('old.onnx', 1);
    const withBaseline = harness('*.onnx', { initial: 'none' });
    await withBaseline.settled();
    await withBaseline.poll();
    expect(withBaseline.values).toEqual([]);
    withBaseline.subscription.unsubscribe();

    const empty = harness('*.pt', { initial: 'none' });
    await empty.settled();
    await model('first.pt', 1);
    await empty.poll();
    expect(empty.values).toEqual([[10, 'first']]);
    empty.subscription.unsubscribe();
  });

  it('has at most one poll in flight: the next is scheduled only when the last has finished', async () => {
    await model('a.onnx', 1);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    globMock.mockImplementationOnce(async (...args: unknown[]) => {
      await gate;
      return jest.requireActual('glob').glob(...args);
    });
    const h = harness('*.onnx');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.scheduler.actions).toHaveLength(0); // nothing scheduled while the first poll hangs
    h.scheduler.flush();
    expect(globMock).toHaveBeenCalledTimes(1);
    release();
    await h.settled();
    expect(h.values).toEqual([[0, 'a']]);
    expect(h.scheduler.actions).toHaveLength(1);
    h.subscription.unsubscribe();
  });

  it('unsubscribing cancels the next poll, aborts the glob in flight and ignores its late result', async () => {
    await model('a.onnx', 1);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let signal: AbortSignal | undefined;
    globMock.mockImplementationOnce(async (pattern: string, options: { signal: AbortSignal }) => {
      signal = options.signal;
      await gate;
      return jest.requireActual('glob').glob(pattern, { ...options, signal: undefined });
    });
    const h = harness('*.onnx');
    // glob is imported at the first poll, so the glob call comes a few microtasks after subscription.
    await new Promise((resolve) => setImmediate(resolve));
    expect(signal?.aborted).toBe(false);
    h.subscription.unsubscribe();
    expect(signal?.aborted).toBe(true);
    release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.values).toEqual([]);
    expect(h.scheduler.actions).toHaveLength(0);

    // And between polls: the scheduled poll is cancelled.
    const h2 = harness('*.onnx');
    await h2.settled();
    expect(h2.scheduler.actions).toHaveLength(1);
    h2.subscription.unsubscribe();
    expect(h2.scheduler.actions).toHaveLength(0);
    expect(globMock).toHaveBeenCalledTimes(2);
  });

  it('stops polling when the subscriber unsubscribes from inside next (take)', async () => {
    await model('a.onnx', 1);
    const scheduler = new VirtualTimeScheduler();
    const values = await firstValueFrom(watchFilePattern('*.onnx', { cwd: dir, scheduler }).pipe(take(1), toArray()));
    expect(values.map((m) => m.modelName)).toEqual(['a']);
    expect(scheduler.actions).toHaveLength(0);
  });

  it('errors the stream on a failed poll when there is no onError', async () => {
    globMock.mockImplementationOnce(() => Promise.reject(new Error('EIO: disk on fire')));
    const h = harness('*.onnx');
    await h.settled();
    expect(h.error()).toEqual(new Error('EIO: disk on fire'));
    expect(h.scheduler.actions).toHaveLength(0);
  });

  it('reports failed polls to onError and keeps polling', async () => {
    const errors: Error[] = [];
    globMock.mockImplementationOnce(() => Promise.reject('not an Error'));
    const h = harness('*.onnx', { onError: (e) => errors.push(e) });
    await h.settled();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[0].cause).toBe('not an Error');
    await model('a.onnx', 1);
    await h.poll();
    expect(h.values).toEqual([[10, 'a']]);
    expect(h.error()).toBeUndefined();
    h.subscription.unsubscribe();
  });

  it('errors the stream when onError throws', async () => {
    globMock.mockImplementationOnce(() => Promise.reject(new Error('first')));
    const h = harness('*.onnx', {
      onError: () => {
        throw new Error('handler gave up');
      },
    });
    await h.settled();
    expect(h.error()).toEqual(new Error('handler gave up'));
  });

  it('skips a file that vanishes between listing and stat; other stat failures fail the poll', async () => {
    const real = await model('a.onnx', 1);
    globMock.mockImplementationOnce(async () => [join(dir, 'gone.onnx'), real]);
    const ok = harness('*.onnx');
    await ok.settled();
    expect(ok.values).toEqual([[0, 'a']]);
    ok.subscription.unsubscribe();

    globMock.mockImplementationOnce(async () => [join(real, 'not-a-dir.onnx')]); // ENOTDIR
    const bad = harness('*.onnx');
    await bad.settled();
    expect((bad.error() as NodeJS.ErrnoException).code).toBe('ENOTDIR');
  });

  it('polls on the asyncScheduler by default, in real time', async () => {
    await model('a.onnx', 1);
    const seen: Array<[string, number]> = [];
    const watching = watchFilePattern('*.onnx', { cwd: dir, intervalMs: 5 }).subscribe((m) =>
      seen.push([m.modelName, globMock.mock.calls.length]),
    );
    await until(() => seen.length === 1);
    await model('b.onnx', 2);
    await until(() => seen.length === 2);
    watching.unsubscribe();
    expect(seen.map(([name]) => name)).toEqual(['a', 'b']);
    expect(seen[0][1]).toBe(1); // the first poll runs at subscription
    const polls = globMock.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(globMock.mock.calls.length).toBe(polls); // no poll after unsubscribe
  });

  it('refreshes the model of a running runInference when a newer file appears', async () => {
    // A "model" file holds the factor it multiplies by; the handler reads the file it is told to load.
    await writeFile(join(dir, 'times2.model'), '2');
    const registry = new MetricsRegistry();
    const scale = modelHandler({
      loadModel: async (path?: string) => Number(await readFile(path!, 'utf8')),
      runInference: (batch: readonly number[], factor: number, { modelId }) =>
        batch.map((x) => ({ y: x * factor, modelId })),
    });
    const source = new Subject<number>();
    const results: Array<{ y: number; modelId: string }> = [];
    const subscription = source
      .pipe(
        runInference(scale, {
          metrics: registry,
          modelMetadata: watchFilePattern('*.model', { cwd: dir, intervalMs: 10 }),
        }),
      )
      .subscribe((r) => results.push(r));
    const infer = async (x: number): Promise<{ y: number; modelId: string }> => {
      const before = results.length;
      source.next(x);
      await until(() => results.length > before);
      return results[results.length - 1];
    };
    expect(await infer(1)).toEqual({ y: 2, modelId: join(dir, 'times2.model') });

    await writeFile(join(dir, 'times3.model'), '3');
    const later = new Date(Date.UTC(2100, 0, 1)); // newer than times2.model whatever the clock says
    await utimes(join(dir, 'times3.model'), later, later);
    const deadline = Date.now() + 5000;
    let last = await infer(1);
    while (last.y !== 3) {
      if (Date.now() > deadline) throw new Error('the new model never served');
      await new Promise((resolve) => setTimeout(resolve, 5));
      last = await infer(1);
    }
    expect(last).toEqual({ y: 3, modelId: join(dir, 'times3.model') });
    expect(registry.snapshot().counters['RunInference/times3_num_inferences']).toBeGreaterThanOrEqual(1);
    subscription.unsubscribe();
  });

  describe('config validation', () => {
    const thrown = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      throw new Error('did not throw');
    };
    it.each([
      ['pattern', () => watchFilePattern(''), 'TypeError'],
      ['pattern', () => watchFilePattern(3 as never), 'TypeError'],
      ['config', () => watchFilePattern('*', null as never), 'TypeError'],
      ['intervalMs', () => watchFilePattern('*', { intervalMs: 0 }), 'RangeError'],
      ['intervalMs', () => watchFilePattern('*', { intervalMs: '5' as never }), 'TypeError'],
      ['scheduler', () => watchFilePattern('*', { scheduler: {} as never }), 'TypeError'],
      ['initial', () => watchFilePattern('*', { initial: 'latest' as never }), 'RangeError'],
      ['onError', () => watchFilePattern('*', { onError: 'log' as never }), 'TypeError'],
      ['cwd', () => watchFilePattern('*', { cwd: '' }), 'TypeError'],
    ])('rejects a bad `%s` when called, before any subscription', (field, call, name) => {
      expect(thrown(call)).toMatchObject({ name, message: expect.stringContaining(`\`${field}\``) });
    });
  });
});
