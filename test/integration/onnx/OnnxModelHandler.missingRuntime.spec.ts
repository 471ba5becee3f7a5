import { mlp } from '../../../scripts/fixtures/onnx';
import { rejection } from './onnxTestUtils';

describe('OnnxModelHandler: onnxruntime-node not installed', () => {
  afterEach(() => {
    jest.dontMock('onnxruntime-node');
    jest.resetModules();
  });

  it('constructing works; loadModel fails with MissingRuntimeError naming the package, and retries the import', async () => {
    const factory = jest.fn(() => {
      throw Object.assign(new Error("Cannot find module 'onnxruntime-node'"), { code: 'MODULE_NOT_FOUND' });
    });
    jest.doMock('onnxruntime-node', factory);
    const { OnnxModelHandler } = await import('../../../src/handlers/onnx/OnnxModelHandler');
    const { MissingRuntimeError } = await import('../../../src/core/errors');
    const handler = new OnnxModelHandler({ modelUri: mlp([2, 2]).bytes });
    expect(factory).not.toHaveBeenCalled();
    const error = await rejection(handler.loadModel());
    expect(error).toBeInstanceOf(MissingRuntimeError);
    expect(error).toMatchObject({
      packageName: 'onnxruntime-node',
      message:
        'This handler needs the optional peer dependency `onnxruntime-node`: run `npm install onnxruntime-node`.',
    });
    expect((error.cause as Error).message).toMatch(/Cannot find module/);
    // A failed import is not cached: a later attempt imports again.
    await handler.loadModel().catch(() => undefined);
    expect(factory).toHaveBeenCalledTimes(2);
  });
});
