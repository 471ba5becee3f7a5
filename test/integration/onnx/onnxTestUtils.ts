import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import { asyncScheduler } from 'rxjs';
import type { InferenceContext } from '../../../src/index';
import type { ElementTensor } from '../../../scripts/fixtures/onnx';

/** A context for calling `handler.runInference` directly. */
export function context(modelId = 'test-model', signal = new AbortController().signal): InferenceContext {
  return { inferenceArgs: undefined, modelId, signal, scheduler: asyncScheduler };
}

/** Asserts an element's output tensor equals the reference: same dtype and dims, values within `tolerance`. */
export function expectTensorClose(actual: Tensor, expected: ElementTensor, tolerance = 1e-5): void {
  expect(actual.type).toBe(expected.type);
  expect(actual.dims).toEqual(expected.dims);
  expect(actual.data.length).toBe(expected.data.length);
  for (let i = 0; i < expected.data.length; i++) {
    const [a, e] = [actual.data[i], expected.data[i]];
    if (typeof e === 'bigint' || typeof a === 'bigint') {
      expect(a).toBe(e);
    } else if (Math.abs((a as number) - e) > tolerance) {
      throw new Error(`value ${i}: got ${String(a)}, expected ${e} (± ${tolerance})`);
    }
  }
}

/** A temporary directory holding the given files, removed by `cleanup()`. */
export function tempModels(files: Readonly<Record<string, Uint8Array>>): {
  dir: string;
  path: (name: string) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-inference-onnx-'));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: PromiseLike<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
