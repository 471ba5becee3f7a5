import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { OnnxModelHandler } from '../../../src/index';
import { describeInputs, fixedBatchSizeOf } from '../../../src/handlers/onnx/onnxSession';
import { encodeModel } from '../../../scripts/fixtures/onnx';
import { buildModel, node, valueInfo } from '../../../scripts/fixtures/onnx/graph';
import { context } from './onnxTestUtils';

/** An Identity model whose input and output are declared with `shape` (or with no shape at all). */
function identity(shape: readonly (number | string)[] | undefined): Uint8Array {
  if (shape) {
    return buildModel({
      name: 'identity',
      nodes: [node('Identity', ['x'], ['y'])],
      inputs: [valueInfo('x', 'float32', shape)],
      outputs: [valueInfo('y', 'float32', shape)],
    });
  }
  const info = (name: string) => ({ name, type: { tensorType: { elemType: 1 } } });
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'identity', node: [node('Identity', ['x'], ['y'])], input: [info('x')], output: [info('y')] },
  });
}

describe('OnnxModelHandler: inputs whose shape the model does not fully declare', () => {
  it('no declared shape: no shape checks, elements still stacked and split', async () => {
    const handler = new OnnxModelHandler({ modelUri: identity(undefined) });
    const model = await handler.loadModel();
    expect(model.inputs).toEqual([{ name: 'x', type: 'float32', shape: undefined }]);
    const batch = [Float32Array.of(1, 2, 3), Float32Array.of(4, 5, 6)];
    const results = await handler.runInference(batch, model, context());
    expect(
      results.map((r) => [(r.inference as Tensor).dims, Array.from((r.inference as Tensor).data as Float32Array)]),
    ).toEqual([
      [[3], [1, 2, 3]],
      [[3], [4, 5, 6]],
    ]);
    await handler.releaseModel(model);
  });

  it('a bare typed array takes the fully fixed per-element dims [2, 2]', async () => {
    const handler = new OnnxModelHandler({ modelUri: identity(['batch', 2, 2]) });
    const model = await handler.loadModel();
    const [result] = await handler.runInference([Float32Array.of(1, 2, 3, 4)], model, context());
    expect((result.inference as Tensor).dims).toEqual([2, 2]);
    await expect(handler.runInference([Float32Array.of(1, 2, 3)], model, context())).rejects.toThrow(
      /a bare typed array needs a 1-D or fully fixed per-element shape, but the model's input shape is \[batch, 2, 2\]/,
    );
    await handler.releaseModel(model);
  });
});

describe('onnxSession: reading input metadata', () => {
  const fake = (inputNames: string[], inputMetadata?: unknown[]) =>
    ({ inputNames, outputNames: ['y'], inputMetadata }) as unknown as InferenceSession;

  it('without inputMetadata (onnxruntime before 1.21): names only, no checks', () => {
    expect(describeInputs(fake(['a', 'b']), 'm')).toEqual([
      { name: 'a', type: undefined, shape: undefined },
      { name: 'b', type: undefined, shape: undefined },
    ]);
  });

  it('rejects non-tensor inputs', () => {
    expect(() => describeInputs(fake(['seq'], [{ name: 'seq', isTensor: false }]), 'm.onnx')).toThrow(
      'ONNX model `m.onnx`: input `seq` is not a tensor (sequence or map inputs are not supported).',
    );
  });

  it('fixed batch sizes must agree across inputs', () => {
    const inputs = [
      { name: 'a', type: 'float32' as const, shape: [4, 3] },
      { name: 'b', type: 'float32' as const, shape: [2, 3] },
    ];
    expect(() => fixedBatchSizeOf(inputs, 'm.onnx')).toThrow(
      'ONNX model `m.onnx` declares different fixed batch sizes: `a` [4, 3], `b` [2, 3].',
    );
    expect(fixedBatchSizeOf([inputs[0], { ...inputs[1], shape: ['n', 3] }], 'm')).toBe(4);
    expect(fixedBatchSizeOf([{ ...inputs[0], shape: undefined }], 'm')).toBeUndefined();
    expect(() => fixedBatchSizeOf([{ ...inputs[0], shape: [0, 3] }], 'm')).toThrow(/batch axis of size 0/);
  });
});
