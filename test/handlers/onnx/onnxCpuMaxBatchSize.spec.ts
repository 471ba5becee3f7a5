import { ONNX_CPU_MAX_BATCH_SIZE, onnxCpuMaxBatchSize } from '../../../src/handlers/onnx/onnxCpuMaxBatchSize';

describe('onnxCpuMaxBatchSize', () => {
  it('is 128 rows per intra-op thread, at least 512 and at most 2048', () => {
    expect([1, 2, 4, 5, 8, 12, 16, 17, 32, 256].map(onnxCpuMaxBatchSize)).toEqual([
      512, 512, 512, 640, 1024, 1536, 2048, 2048, 2048, 2048,
    ]);
    expect(ONNX_CPU_MAX_BATCH_SIZE).toBe(512);
  });

  it('counts whole threads, and falls back to the smallest bound for a count that is not one', () => {
    expect(onnxCpuMaxBatchSize(8.9)).toBe(1024);
    expect([0, -3, NaN, Infinity].map(onnxCpuMaxBatchSize)).toEqual([512, 512, 512, 512]);
  });
});
