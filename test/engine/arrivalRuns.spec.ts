import { Subject } from 'rxjs';
import { MetricsRegistry, modelHandler, runInference } from '../../src/index';

/** Waits (by event-loop turns) until `condition` holds; fails after 5 s instead of hanging. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// The arrival-clock rule in a real pipeline (default schedulers, `performance.now()` as the clock, replaced here by a
// controlled one): one read stamps a run of arrivals, and a run never outlives its burst — also while the model is busy
// and nothing else is scheduled.
describe('arrival times in runs (ArrivalClock through runInference)', () => {
  let now = 0;
  beforeEach(() => {
    now = 0;
    jest.spyOn(performance, 'now').mockImplementation(() => now);
  });
  afterEach(() => jest.restoreAllMocks());

  it('an element arriving in a later burst while the model is busy gets its own time, not the earlier stamp', async () => {
    const registry = new MetricsRegistry();
    const finish: Array<() => void> = [];
    const handler = modelHandler({
      runInference: (batch: readonly string[]) =>
        new Promise<string[]>((resolve) => finish.push(() => resolve(batch.map((x) => x.toUpperCase())))),
    });
    const out: unknown[] = [];
    const input = new Subject<string>();
    // One key per element: each becomes its own batch, so each batch's queue wait is its element's.
    input
      .pipe(runInference(handler, { metrics: registry, batch: { batchKeyFn: (x) => x } }))
      .subscribe((v) => out.push(v));
    input.next('a'); // at 0: runs at once, the model is now busy
    await until(() => finish.length === 1);
    now = 100;
    input.next('b'); // queued, stamped 100
    await new Promise((resolve) => setImmediate(resolve)); // the burst ends
    now = 200;
    input.next('c'); // a later burst: must read the clock (200), not reuse b's stamp
    now = 300;
    finish.shift()!(); // a done at 300: b runs (waited 200)
    await until(() => finish.length === 1);
    now = 400;
    finish.shift()!(); // b done at 400: c runs (waited 200; 300 if it had b's stamp)
    await until(() => finish.length === 1);
    finish.shift()!();
    await until(() => out.length === 3);
    expect(out).toEqual(['A', 'B', 'C']);
    expect(registry.snapshot().distributions['RunInference/queue_wait_milli_secs']).toMatchObject({
      count: 3,
      min: 0,
      max: 200,
      sum: 400,
    });
  });

  it('elements of one synchronous burst share a read, and a model call starts a new run', async () => {
    let reads = 0;
    jest.spyOn(performance, 'now').mockImplementation(() => ++reads);
    const handler = modelHandler({ runInference: (batch: readonly number[]) => batch });
    const input = new Subject<number>();
    const out: unknown[] = [];
    input
      .pipe(runInference(handler, { batch: { minBatchSize: 1000, maxBatchSize: 1000 } }))
      .subscribe((v) => out.push(v));
    await new Promise((resolve) => setImmediate(resolve));
    const before = reads;
    for (let i = 0; i < 320; i++) input.next(i);
    // 320 arrivals, no model call in between: 10 runs of 32, one read each.
    expect(reads - before).toBe(10);
    await until(() => out.length === 320);
  });
});
