import { Counter } from '../../src/metrics/Counter';
import { Gauge } from '../../src/metrics/Gauge';
import { MetricsRegistry, defaultMetricsRegistry } from '../../src/index';
import { fullMetricName } from '../../src/metrics/MetricsRegistry';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('MetricsRegistry', () => {
  it('creates each metric on first use and finds the same object by full name afterwards', () => {
    const registry = new MetricsRegistry();
    const c = registry.counter('NS/records');
    expect(c).toBeInstanceOf(Counter);
    expect(registry.counter('NS/records')).toBe(c);
    expect(registry.counter({ namespace: 'NS', name: 'records' })).toBe(c);
    expect(registry.counter({ namespace: 'NS', name: 'records', prefix: '' })).toBe(c);
    expect(c).toMatchObject({ fullName: 'NS/records', namespace: 'NS', name: 'records', prefix: '' });
    const prefixed = registry.counter({ namespace: 'NS', name: 'records', prefix: 'm1_' });
    expect(prefixed).not.toBe(c);
    expect(prefixed).toMatchObject({ fullName: 'NS/m1_records', prefix: 'm1_', name: 'records' });
    expect(registry.counter('NS/m1_records')).toBe(prefixed);
  });

  it('keeps the kinds apart: a counter and a distribution may share a name', () => {
    const registry = new MetricsRegistry();
    registry.counter('NS/x').inc(2);
    registry.distribution('NS/x').update(5);
    registry.gauge('NS/x').set(7);
    expect(registry.snapshot()).toEqual({
      counters: { 'NS/x': 2 },
      distributions: { 'NS/x': { count: 1, sum: 5, min: 5, max: 5, mean: 5, p50: 5, p90: 5, p99: 5 } },
      gauges: { 'NS/x': 7 },
    });
  });

  it('parses names: the namespace is what comes before the first slash; no slash, no namespace', () => {
    const registry = new MetricsRegistry();
    expect(registry.gauge('plain')).toMatchObject({ fullName: 'plain', namespace: '', name: 'plain' });
    expect(registry.gauge('a/b/c')).toMatchObject({ fullName: 'a/b/c', namespace: 'a', name: 'b/c' });
    expect(fullMetricName({ namespace: '', name: 'n', prefix: 'p_' })).toBe('p_n');
    expect(fullMetricName({ namespace: 'RunInference', name: 'n', prefix: 'p_' })).toBe('RunInference/p_n');
  });

  it('rejects empty or malformed names with a TypeError naming `name`', () => {
    const registry = new MetricsRegistry();
    expect(thrown(() => registry.counter(''))).toMatchObject({
      name: 'TypeError',
      message: expect.stringMatching(/`name`/),
    });
    for (const bad of [null, 42, {}, { namespace: 'NS' }, { namespace: 'NS', name: '' }, { namespace: 1, name: 'x' }]) {
      expect(() => registry.distribution(bad as never)).toThrow(TypeError);
    }
    expect(() => registry.gauge({ namespace: 'NS', name: 'x', prefix: 3 as never })).toThrow(/`name`/);
  });

  it('snapshot is plain JSON and does not change the values', () => {
    const registry = new MetricsRegistry();
    registry.counter('NS/c').inc();
    registry.distribution('NS/d').update(1.5);
    const snapshot = registry.snapshot();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(registry.snapshot()).toEqual(snapshot);
  });

  it('reset zeroes every metric and keeps the objects valid', () => {
    const registry = new MetricsRegistry();
    const c = registry.counter('NS/c');
    const d = registry.distribution('NS/d');
    const g = registry.gauge('NS/g');
    c.inc(3);
    d.update(4);
    g.set(5);
    registry.reset();
    expect(registry.snapshot()).toEqual({
      counters: { 'NS/c': 0 },
      distributions: { 'NS/d': { count: 0, sum: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 } },
      gauges: { 'NS/g': 0 },
    });
    c.inc();
    expect(registry.counter('NS/c').value).toBe(1);
  });

  it('lists metrics and tells listeners about new ones only', () => {
    const registry = new MetricsRegistry();
    registry.counter('NS/old');
    const seen: string[] = [];
    const stop = registry.onMetricCreated((m, kind) => seen.push(`${kind}:${m.fullName}`));
    registry.counter('NS/old');
    registry.counter('NS/new');
    registry.distribution('NS/new');
    registry.gauge('NS/g');
    stop();
    registry.gauge('NS/after');
    expect(seen).toEqual(['counter:NS/new', 'distribution:NS/new', 'gauge:NS/g']);
    expect(registry.listCounters().map((m) => m.fullName)).toEqual(['NS/old', 'NS/new']);
    expect(registry.listDistributions().map((m) => m.fullName)).toEqual(['NS/new']);
    expect(registry.listGauges().map((m) => m.fullName)).toEqual(['NS/g', 'NS/after']);
  });

  it('has a process-wide default registry', () => {
    expect(defaultMetricsRegistry).toBeInstanceOf(MetricsRegistry);
  });
});

describe('Counter and Gauge', () => {
  it('counters add, ignore non-finite values, reset', () => {
    const c = new Counter('c', '', 'c', '');
    c.inc();
    c.inc(4);
    c.inc(NaN);
    expect(c.value).toBe(5);
    c.reset();
    expect(c.value).toBe(0);
  });

  it('gauges set, go up and down, ignore non-finite values, reset', () => {
    const g = new Gauge('g', '', 'g', '');
    g.set(10);
    g.inc();
    g.inc(2);
    g.dec();
    g.dec(3);
    g.set(Infinity);
    g.inc(NaN);
    g.dec(NaN);
    expect(g.value).toBe(9);
    g.reset();
    expect(g.value).toBe(0);
  });
});
