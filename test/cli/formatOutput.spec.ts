import {
  InferenceError,
  InvalidExampleError,
  MetricsRegistry,
  ProcessingError,
  RunInferenceMetrics,
} from '../../src/index';
import { describeFailure, formatDeadLetter } from '../../src/cli/formatDeadLetter';
import { createOutputFormatter, type OutputFormatConfig, outputsOf } from '../../src/cli/formatOutput';
import { formatSummary, summarize } from '../../src/cli/summarize';
import { CONTROL_CHARACTERS } from './cliFixtures';

const base: OutputFormatConfig = {
  format: 'array',
  outputNames: ['logits'],
  outputName: undefined,
  topK: 2,
  softmax: false,
  precision: undefined,
  includeModel: false,
};
const onnxTensor = (data: Float32Array, dims: number[]) => ({ data, dims, type: 'float32' });
const meta = { line: 3, id: 'r3', hasId: true };

describe('createOutputFormatter', () => {
  const logits = onnxTensor(Float32Array.of(0.1, 2.5, -1, 2.5), [4]);

  it('array: line, id and the output as nested arrays, float32 printed with 9 significant digits', () => {
    const format = createOutputFormatter(base);
    expect(JSON.parse(format(meta, logits, 'm.onnx'))).toEqual({
      line: 3,
      id: 'r3',
      output: [0.100000001, 2.5, -1, 2.5],
    });
    const matrix = onnxTensor(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
    expect(JSON.parse(format({ line: 1, hasId: false }, matrix, undefined))).toEqual({
      line: 1,
      output: [
        [1, 2, 3],
        [4, 5, 6],
      ],
    });
    expect(createOutputFormatter({ ...base, precision: 2 })(meta, logits, '')).toContain('"output":[0.1,2.5,-1,2.5]');
  });

  it('array with several outputs: one nested array per output name, or the one --output-name picks', () => {
    const two = { logits, label: { data: BigInt64Array.of(1n), dims: [], type: 'int64' } };
    const format = createOutputFormatter({ ...base, outputNames: ['logits', 'label'] });
    expect(JSON.parse(format(meta, two, '')).outputs).toEqual({ logits: [0.100000001, 2.5, -1, 2.5], label: 1 });
    const label = createOutputFormatter({ ...base, outputNames: ['logits', 'label'], outputName: 'label' });
    expect(JSON.parse(label(meta, two, '')).output).toBe(1);
    const missing = createOutputFormatter({ ...base, outputName: 'nope' });
    expect(() => missing(meta, two, '')).toThrow(/no output `nope`.*`logits`, `label`/);
  });

  it('full: model and every output with dtype, dims and flat data; int64 beyond 2^53 as a string', () => {
    const format = createOutputFormatter({ ...base, format: 'full', outputNames: ['a', 'b'] });
    const record = JSON.parse(
      format(
        meta,
        {
          a: onnxTensor(Float32Array.of(1, 2), [1, 2]),
          b: { data: BigInt64Array.of(2n ** 60n), dims: [1], type: 'int64' },
        },
        'v2.onnx',
      ),
    );
    expect(record).toEqual({
      line: 3,
      id: 'r3',
      model: 'v2.onnx',
      outputs: {
        a: { dtype: 'float32', dims: [1, 2], data: [1, 2] },
        b: { dtype: 'int64', dims: [1], data: ['1152921504606846976'] },
      },
    });
  });

  it('argmax and topk: the first largest wins ties; --softmax gives probabilities', () => {
    expect(JSON.parse(createOutputFormatter({ ...base, format: 'argmax' })(meta, logits, ''))).toEqual({
      line: 3,
      id: 'r3',
      class: 1,
      score: 2.5,
    });
    const top = JSON.parse(createOutputFormatter({ ...base, format: 'topk', topK: 3 })(meta, logits, '')).top;
    expect(top).toEqual([
      { class: 1, score: 2.5 },
      { class: 3, score: 2.5 },
      { class: 0, score: 0.100000001 },
    ]);
    const soft = JSON.parse(
      createOutputFormatter({ ...base, format: 'topk', topK: 4, softmax: true })(meta, logits, ''),
    ).top;
    expect(soft.reduce((s: number, t: { score: number }) => s + t.score, 0)).toBeCloseTo(1, 12);
    expect(soft[0].score).toBeCloseTo(Math.exp(2.5) / (Math.exp(0.1) + 2 * Math.exp(2.5) + Math.exp(-1)), 6);
    expect(() =>
      createOutputFormatter({ ...base, format: 'argmax' })(meta, onnxTensor(new Float32Array(0), [0]), ''),
    ).toThrow(/empty/);
  });

  it('includes the model id on request (--watch) and reads TF.js outputs ({ data, shape, dtype })', () => {
    const format = createOutputFormatter({ ...base, includeModel: true });
    const tfjs = { data: Int32Array.of(4, 5), shape: [2], dtype: 'int32' };
    expect(JSON.parse(format({ line: 1, hasId: false }, tfjs, 'b.json'))).toEqual({
      line: 1,
      model: 'b.json',
      output: [4, 5],
    });
    expect(outputsOf({ data: Uint8Array.of(1, 0), shape: [2], dtype: 'bool' }, ['x'])[0].dtype).toBe('bool');
    expect(() => outputsOf(null, ['x'])).toThrow(InferenceError);
    expect(() => outputsOf({ a: 1 }, ['a'])).toThrow(/output `a` is not a tensor/);
  });

  it('writes non-finite floats as null', () => {
    const format = createOutputFormatter(base);
    expect(format({ line: 1, hasId: false }, onnxTensor(Float32Array.of(NaN, Infinity), [2]), '')).toBe(
      '{"line":1,"output":[null,null]}',
    );
  });
});

describe('formatDeadLetter', () => {
  const record = { line: 12, text: 'x'.repeat(50), id: 'k' };

  it('keeps the line, id, stage, reason and a truncated raw line', () => {
    const failure = {
      stage: 'preprocess' as const,
      index: 0,
      element: record,
      error: new InvalidExampleError('bad shape', undefined, 'input'),
    };
    expect(JSON.parse(formatDeadLetter(failure, record, { maxRawLength: 10, hasId: true }))).toEqual({
      line: 12,
      id: 'k',
      stage: 'preprocess',
      error: 'InvalidExampleError',
      reason: 'bad shape',
      raw: 'xxxxxxxxxx',
      rawLength: 50,
      truncated: true,
    });
    expect(describeFailure(failure, record)).toBe('rxjs-inference: line 12: preprocess failed: bad shape');
  });

  it('unwraps a ProcessingError to its cause, and copes with an unknown line', () => {
    const cause = new RangeError('deep reason');
    const failure = {
      stage: 'postprocess' as const,
      index: 0,
      element: 1,
      error: new ProcessingError('Postprocess function 0 failed: deep reason', 'postprocess', 0, { cause }),
    };
    const letter = JSON.parse(formatDeadLetter(failure, undefined, { maxRawLength: 10, hasId: false }));
    expect(letter).toEqual({
      line: null,
      stage: 'postprocess',
      error: 'RangeError',
      reason: 'deep reason',
      raw: null,
      rawLength: null,
      truncated: false,
    });
    expect(describeFailure(failure, undefined)).toContain('line ?');
  });
});

describe('summarize', () => {
  it('adds up batches over every model prefix and reads the latency quantiles in ms', () => {
    const registry = new MetricsRegistry();
    const metrics = new RunInferenceMetrics(registry, 'RunInference');
    for (let i = 0; i < 10; i++) metrics.recordBatch(10, 100, 2);
    metrics.withPrefix('v2_').recordBatch(4, 40, 50);
    metrics.recordFailedBatch();
    metrics.recordLoad(12);
    metrics.recordDevice('webgpu');
    metrics.withPrefix('v2_').recordDevice('webgpu');
    const summary = summarize(registry, {
      recordsIn: 105,
      recordsOut: 104,
      recordsFailed: 1,
      recordsNotWritten: 0,
      blankLines: 2,
      elapsedMs: 500,
      models: ['a', 'b'],
      modelLoadMs: [12],
    });
    expect(summary).toMatchObject({
      batches: 11,
      failedBatches: 1,
      recordsPerSecond: 210,
      modelLoadMs: [12],
      device: 'webgpu',
    });
    expect(summary.meanBatchSize).toBeCloseTo(104 / 11);
    expect(summary.batchLatencyP50Ms).toBeCloseTo(2, 1);
    expect(summary.peakRssBytes).toBeGreaterThan(1e6);
    const text = formatSummary(summary, { verbose: true, output: 'out.jsonl', deadLetter: 'bad.jsonl' });
    expect(text).toContain('records     in 105, out 104, failed 1, blank lines skipped 2');
    expect(text).toContain('batches     11, mean size 9.5, failed batches 1');
    expect(text).toContain('models      a -> b');
    expect(text).toContain('device      webgpu');
    expect(text).toMatch(/peak RSS {4}\d+\.\d MB/);
    expect(text).not.toMatch(CONTROL_CHARACTERS);
  });

  it('reports zeros for a run without batches', () => {
    const summary = summarize(new MetricsRegistry(), {
      recordsIn: 0,
      recordsOut: 0,
      recordsFailed: 0,
      recordsNotWritten: 0,
      blankLines: 0,
      elapsedMs: 0,
      models: [],
      modelLoadMs: [],
    });
    expect(summary).toMatchObject({
      batches: 0,
      meanBatchSize: 0,
      batchLatencyP50Ms: 0,
      recordsPerSecond: 0,
      device: 'unknown',
    });
    expect(formatSummary(summary, { verbose: true, output: 'x', deadLetter: undefined })).toContain('model load  -');
  });

  it('names the records read but not written (an interrupted run), so every record read is accounted for', () => {
    const counts = { recordsIn: 100, recordsOut: 60, recordsFailed: 2, recordsNotWritten: 38, blankLines: 0 };
    const summary = summarize(new MetricsRegistry(), { ...counts, elapsedMs: 10, models: [], modelLoadMs: [] });
    expect(summary.recordsNotWritten).toBe(38);
    expect(formatSummary(summary, { verbose: false, output: 'x', deadLetter: undefined })).toContain(
      'records     in 100, out 60, failed 2, not written 38 (read, still in flight)',
    );
  });
});
