import {
  deviceOfProviders,
  explainWebGpuFailure,
  sessionOptionsFor,
  vulkanLoaderFound,
} from '../../../src/handlers/onnx/onnxDevice';

const ORT_NO_ADAPTER =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::' +
  'Initialize(...) adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU ' +
  'adapter: No supported adapters';

describe('onnxDevice', () => {
  it('sessionOptionsFor puts the device first and drops the other GPU providers of the user', () => {
    const options = {
      intraOpNumThreads: 2,
      executionProviders: ['cuda', { name: 'webgpu', preferredLayout: 'NHWC' }, 'cpu'],
    };
    expect(sessionOptionsFor(options as never, 'webgpu')).toEqual({
      intraOpNumThreads: 2,
      executionProviders: [{ name: 'webgpu', preferredLayout: 'NHWC' }, 'cpu'],
    });
    expect(sessionOptionsFor(options as never, 'cuda').executionProviders).toEqual(['cuda', 'cpu']);
    expect(sessionOptionsFor(options as never, 'cpu').executionProviders).toEqual(['cpu']);
    expect(sessionOptionsFor({}, 'cpu').executionProviders).toEqual(['cpu']);
    expect(sessionOptionsFor({}, 'webgpu').executionProviders).toEqual(['webgpu']);
  });

  it('deviceOfProviders: the first GPU provider the user lists, else the CPU', () => {
    expect(deviceOfProviders(undefined)).toBe('cpu');
    expect(deviceOfProviders(['cpu'])).toBe('cpu');
    expect(deviceOfProviders([{ name: 'webgpu' }, 'cpu'] as never)).toBe('webgpu');
    expect(deviceOfProviders(['cuda', 'webgpu'])).toBe('cuda');
  });

  it('explainWebGpuFailure names what is missing: the Vulkan loader, or an adapter', () => {
    expect(explainWebGpuFailure(ORT_NO_ADAPTER, false)).toMatch(/^no Vulkan loader: libvulkan\.so\.1 was not found/);
    expect(explainWebGpuFailure(ORT_NO_ADAPTER, true)).toMatch(
      /^no WebGPU adapter: the Vulkan loader found no usable driver .*\[Failed to get a WebGPU adapter: No supported adapters\]$/,
    );
    expect(explainWebGpuFailure(ORT_NO_ADAPTER, undefined)).toMatch(/^no WebGPU adapter: the system offers no GPU/);
    expect(explainWebGpuFailure('\nprotobuf parsing failed.\nmore', true)).toBe('protobuf parsing failed.');
  });

  it('vulkanLoaderFound answers on Linux', () => {
    expect(vulkanLoaderFound()).toEqual(process.platform === 'linux' ? expect.any(Boolean) : undefined);
  });
});
