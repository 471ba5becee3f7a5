import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { MissingRuntimeError } from '../../core/errors.js';

/**
 * Where an ONNX handler runs its model (SPEC §8): `'cpu'`; `'webgpu'` (onnxruntime's bundled WebGPU execution
 * provider: Dawn over Vulkan on Linux, Metal on macOS, D3D12 on Windows); `'cuda'` (the CUDA provider, a separate
 * download of onnxruntime-node's install script); `'gpu'`: the best of CUDA, WebGPU and the CPU that loads.
 */
export type OnnxDevice = 'cpu' | 'gpu' | 'webgpu' | 'cuda';

/** The device a loaded model actually runs on (`'gpu'` resolved). */
export type OnnxExecutionDevice = 'cpu' | 'webgpu' | 'cuda';

/** The `device` values the handlers accept. */
export const ONNX_DEVICES: readonly OnnxDevice[] = ['cpu', 'gpu', 'webgpu', 'cuda'];

type ExecutionProvider = NonNullable<Ort.InferenceSession.SessionOptions['executionProviders']>[number];

const providerName = (ep: ExecutionProvider): string =>
  typeof ep === 'string' ? ep : ((ep as { name?: string } | null)?.name ?? '');

/** The device a list of execution providers puts first among CUDA and WebGPU (`'cpu'` when neither). */
export function deviceOfProviders(providers: readonly ExecutionProvider[] | undefined): OnnxExecutionDevice {
  for (const ep of providers ?? []) {
    const name = providerName(ep);
    if (name === 'webgpu' || name === 'cuda') return name;
  }
  return 'cpu';
}

/**
 * Session options for `device`: its provider first, then the user's other providers (CUDA and WebGPU entries of
 * theirs dropped, so a fallback really leaves the device it gave up on). For `'cpu'` the user's list, or `['cpu']`.
 * A user's provider object for the device itself (with options) is kept in place of the bare name.
 */
export function sessionOptionsFor(
  options: Ort.InferenceSession.SessionOptions,
  device: OnnxExecutionDevice,
): Ort.InferenceSession.SessionOptions {
  const given = options.executionProviders ?? [];
  const own = given.find((ep) => providerName(ep) === device);
  const others = given.filter((ep) => providerName(ep) !== 'cuda' && providerName(ep) !== 'webgpu');
  if (device === 'cpu') return { ...options, executionProviders: others.length > 0 ? others : ['cpu'] };
  return { ...options, executionProviders: [own ?? device, ...others] };
}

/**
 * The absolute path of `onnxruntime-node`'s entry point: resolved from this module (CommonJS build, jest), else from
 * the main script, else from the working directory (ES-module build). Worker threads `require` it.
 */
export function resolveOrtPath(): string {
  try {
    if (typeof require === 'function') return require.resolve('onnxruntime-node');
  } catch {
    // Not resolvable from here: try the other bases.
  }
  for (const base of [process.argv[1], join(process.cwd(), 'index.js')]) {
    if (!base) continue;
    try {
      return createRequire(base).resolve('onnxruntime-node');
    } catch {
      // Next base.
    }
  }
  throw new MissingRuntimeError('onnxruntime-node');
}

/**
 * Why the CUDA provider cannot load, when that is known without trying: onnxruntime-node's install script downloads
 * `libonnxruntime_providers_cuda` next to its CPU binaries, and installs that skip it (offline, `--ignore-scripts`,
 * `onnxruntime-node-install=skip`) have none. `undefined` when the library is there or the layout is unknown (then
 * the caller just tries).
 */
export function cudaProviderProblem(ort: OrtLike): string | undefined {
  const backends = ort.listSupportedBackends?.();
  if (backends !== undefined && !backends.some((b) => b.name === 'cuda')) {
    return 'this onnxruntime-node build has no CUDA execution provider';
  }
  let binDir: string;
  try {
    binDir = join(dirname(resolveOrtPath()), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
  if (!existsSync(binDir)) return undefined;
  const file = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return existsSync(join(binDir, file))
    ? undefined
    : `no CUDA provider: ${file} is not installed (onnxruntime-node's install script downloads it; ` +
        `this install skipped it)`;
}

/** Why WebGPU cannot be used, when that is known without trying (an onnxruntime without the WebGPU provider). */
export function webGpuProviderProblem(ort: OrtLike): string | undefined {
  const backends = ort.listSupportedBackends?.();
  return backends !== undefined && !backends.some((b) => b.name === 'webgpu')
    ? 'this onnxruntime-node has no WebGPU execution provider (onnxruntime-node 1.22 and later bundle it)'
    : undefined;
}

/** The parts of the runtime module the device checks use. */
interface OrtLike {
  readonly listSupportedBackends?: () => readonly { readonly name: string }[];
}

/** Whether the Vulkan loader (`libvulkan.so.1`) can be found on Linux; `undefined` on other systems. */
export function vulkanLoaderFound(): boolean | undefined {
  if (process.platform !== 'linux') return undefined;
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== '');
  const triplet = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  dirs.push(`/lib/${triplet}`, `/usr/lib/${triplet}`, '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib');
  if (dirs.some((dir) => existsSync(join(dir, 'libvulkan.so.1')))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

/**
 * onnxruntime's message when it could not create a WebGPU session, turned into what is missing: no Vulkan loader, or
 * no adapter (no usable Vulkan driver). Other failures (a model the provider rejects) keep their first line.
 * `loaderFound`: whether `libvulkan.so.1` is there (`undefined`: not a Linux system).
 */
export function explainWebGpuFailure(message: string, loaderFound: boolean | undefined): string {
  const first = message.split('\n').find((line) => line.trim() !== '') ?? message;
  if (!/adapter/i.test(message)) return first.trim();
  if (loaderFound === false) {
    return (
      'no Vulkan loader: libvulkan.so.1 was not found (install libvulkan1 and a Vulkan driver: the GPU vendor’s, ' +
      'or Mesa’s lavapipe from mesa-vulkan-drivers 25 or later to run WebGPU on the CPU)'
    );
  }
  const linux = loaderFound !== undefined;
  return (
    'no WebGPU adapter: ' +
    (linux
      ? 'the Vulkan loader found no usable driver (install the GPU’s Vulkan driver and point VK_DRIVER_FILES at its ' +
        'ICD file, or Mesa 25’s lavapipe; Mesa 22’s is too old for Dawn)'
      : 'the system offers no GPU that WebGPU can use') +
    ` [${first.trim().replace(/^.*?(Failed to get a WebGPU adapter)/, '$1')}]`
  );
}
