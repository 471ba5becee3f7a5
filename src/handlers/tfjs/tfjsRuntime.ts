import type * as tfjs from '@tensorflow/tfjs';
import { MissingRuntimeError, toError } from '../../core/errors.js';

/** The TensorFlow.js API object (`@tensorflow/tfjs`, or `@tensorflow/tfjs-node(-gpu)`, which re-export it). */
export type TfjsModule = typeof tfjs;

/**
 * A TensorFlow.js backend the handler can select: `'tensorflow'` (native, from `@tensorflow/tfjs-node-gpu` or
 * `@tensorflow/tfjs-node`), `'wasm'` (`@tensorflow/tfjs-backend-wasm`), `'cpu'` (pure JS, in `@tensorflow/tfjs`) or
 * `'webgpu'` (`@tensorflow/tfjs-backend-webgpu` on the WebGPU of the npm package `webgpu`, Dawn's Node bindings; only
 * when asked for by name, never chosen automatically).
 */
export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu' | 'webgpu';

/** The optional peer packages a TensorFlow.js runtime is made of. */
export type TfjsRuntimePackage =
  | '@tensorflow/tfjs-node-gpu'
  | '@tensorflow/tfjs-node'
  | '@tensorflow/tfjs-backend-wasm'
  | '@tensorflow/tfjs'
  | 'webgpu'
  | '@tensorflow/tfjs-backend-webgpu';

/**
 * Loads an optional peer package: resolves to the module, or to `undefined` when the package is not installed
 * (any other failure rejects). The default is a dynamic `import()`; inject one to test the fallback order.
 */
export type TfjsRuntimeImporter = (packageName: TfjsRuntimePackage) => Promise<unknown>;

/** Where the handler reports the backend it chose (once per handler) and recoverable problems. */
export interface TfjsLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** A loaded runtime: the API object and the backend now active in the process. */
export interface TfjsRuntime {
  readonly tf: TfjsModule;
  readonly backend: TfjsBackendName;
  /** The package that provides the backend. */
  readonly packageName: TfjsRuntimePackage;
}

/**
 * The automatic choice, best first: native GPU, native CPU, WebAssembly, pure JS. `webgpu` comes last and only when
 * named (`explicitOnly`): whether it beats wasm depends on the GPU (on an H200 ≈ 15× faster; on lavapipe, a CPU
 * Vulkan driver, ≈ 10× slower), which the handler cannot know in advance.
 */
export const TFJS_BACKEND_ORDER: readonly {
  readonly backend: TfjsBackendName;
  readonly packages: readonly TfjsRuntimePackage[];
  readonly explicitOnly?: boolean;
}[] = [
  { backend: 'tensorflow', packages: ['@tensorflow/tfjs-node-gpu'] },
  { backend: 'tensorflow', packages: ['@tensorflow/tfjs-node'] },
  { backend: 'wasm', packages: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] },
  { backend: 'cpu', packages: ['@tensorflow/tfjs'] },
  {
    backend: 'webgpu',
    packages: ['@tensorflow/tfjs', 'webgpu', '@tensorflow/tfjs-backend-webgpu'],
    explicitOnly: true,
  },
];

/** The default importer: `import(packageName)`, `undefined` when that package (itself) cannot be found. */
export const importTfjsPackage: TfjsRuntimeImporter = async (packageName) => {
  try {
    return await import(packageName);
  } catch (error) {
    if (isModuleNotFound(error, packageName)) return undefined;
    throw error;
  }
};

function isModuleNotFound(error: unknown, packageName: string): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  const notFound = e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND';
  // A package that is present but misses one of *its* dependencies is broken, not absent.
  return notFound && typeof e.message === 'string' && e.message.includes(`'${packageName}'`);
}

/** ES-module namespaces of CommonJS packages carry the API on `default`. */
function apiOf(module: unknown): TfjsModule {
  const m = module as { tensor?: unknown; default?: { tensor?: unknown } };
  if (typeof m.tensor !== 'function' && m.default !== undefined && typeof m.default.tensor === 'function') {
    return m.default as unknown as TfjsModule;
  }
  return m as unknown as TfjsModule;
}

type Attempt = { readonly ok: true; readonly tf: TfjsModule } | { readonly ok: false; readonly missing: string };

async function importAll(packages: readonly TfjsRuntimePackage[], importer: TfjsRuntimeImporter): Promise<Attempt> {
  let tf: TfjsModule | undefined;
  for (const name of packages) {
    const module = await importer(name);
    if (module === undefined || module === null) return { ok: false, missing: name };
    // `@tensorflow/tfjs-backend-webgpu` looks for `navigator.gpu`, which Node lacks: Dawn's bindings provide it.
    if (name === 'webgpu') provideNavigatorGpu(module);
    // The first package of a candidate is the API (tfjs or tfjs-node); the others register a backend.
    tf ??= apiOf(module);
  }
  return { ok: true, tf: tf as TfjsModule };
}

/**
 * Gives the process `navigator.gpu` (and the `GPU*` constants) from the npm package `webgpu` (Dawn's Node bindings),
 * unless a WebGPU implementation is already there. This changes globals of the process, as choosing a TensorFlow.js
 * backend already does.
 */
function provideNavigatorGpu(module: unknown): void {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu !== undefined) return;
  type Dawn = { create: (flags: string[]) => unknown; globals: Record<string, unknown> };
  const m = module as Partial<Dawn> & { default?: Dawn };
  const dawn = (typeof m.create === 'function' ? m : m.default) as Dawn;
  for (const [key, value] of Object.entries(dawn.globals))
    if (!(key in globalThis)) Object.assign(globalThis, { [key]: value });
  const gpu = dawn.create([]);
  if (g.navigator === undefined) g.navigator = { gpu };
  else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
}

async function activate(tf: TfjsModule, backend: TfjsBackendName): Promise<void> {
  // The wasm backend starts asynchronously; tensors created before it is ready throw (shared/NOTES.md).
  const ok = await tf.setBackend(backend);
  if (!ok && backend === 'webgpu') {
    throw new Error(
      "TensorFlow.js backend 'webgpu' failed to initialize: no WebGPU adapter (navigator.gpu.requestAdapter() " +
        'found no GPU: install a Vulkan driver — the GPU vendor’s, or Mesa 25’s lavapipe — see README "Devices").',
    );
  }
  if (!ok) throw new Error(`TensorFlow.js backend '${backend}' failed to initialize.`);
  await tf.ready();
}

/**
 * Loads TensorFlow.js and makes `backend` (or the best installed one) the process-wide active backend.
 *
 * Without `backend`, tries in order `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`, `@tensorflow/tfjs` with
 * `@tensorflow/tfjs-backend-wasm`, then `@tensorflow/tfjs` alone (`cpu`); a candidate that is installed but fails
 * to load is skipped with a warning. Rejects with `MissingRuntimeError` naming the package to install.
 *
 * @example
 * const { tf, backend } = await loadTfjsRuntime(undefined, importTfjsPackage, console);
 */
export async function loadTfjsRuntime(
  backend: TfjsBackendName | undefined,
  importer: TfjsRuntimeImporter,
  logger: TfjsLogger,
): Promise<TfjsRuntime> {
  const candidates = TFJS_BACKEND_ORDER.filter((c) =>
    backend === undefined ? c.explicitOnly !== true : c.backend === backend,
  );
  let missing: string | undefined;
  let lastError: Error | undefined;
  for (const [i, candidate] of candidates.entries()) {
    let attempt: Attempt;
    try {
      attempt = await importAll(candidate.packages, importer);
      if (attempt.ok) {
        await activate(attempt.tf, candidate.backend);
        const packageName = candidate.packages[candidate.packages.length - 1] as TfjsRuntimePackage;
        return { tf: attempt.tf, backend: candidate.backend, packageName };
      }
    } catch (thrown) {
      lastError = toError(thrown);
      if (i === candidates.length - 1) break;
      logger.warn(
        `TfjsModelHandler: ${candidate.packages.join(' + ')} is installed but failed to load ` +
          `(${lastError.message}); trying the next TensorFlow.js backend.`,
      );
      continue;
    }
    // The first missing package is the most useful to name (e.g. tfjs-node over tfjs-node-gpu, tfjs over wasm).
    if (missing === undefined || attempt.missing === '@tensorflow/tfjs') missing = attempt.missing;
    if (backend === 'tensorflow' && attempt.missing === '@tensorflow/tfjs-node') missing = attempt.missing;
  }
  if (lastError !== undefined && missing === undefined) throw lastError;
  throw new MissingRuntimeError(missing ?? '@tensorflow/tfjs', lastError ? { cause: lastError } : undefined);
}
