// Shared set-up of the TensorFlow.js integration tests: the real runtime (wasm and cpu backends), fixtures built
// into a temporary directory, and helpers to run a handler on one batch.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, firstValueFrom, from } from 'rxjs';
import type {
  InferenceContext,
  TfjsModel,
  TfjsModelHandler,
  TfjsOutputMode,
  TfjsPrediction,
  TfjsOutput,
} from '../../../src/index';

tf.env().set('IS_TEST', true); // no "install tfjs-node" banner in test output

export { tf };

/** A logger that records what the handler says. */
export function recordingLogger(): { info: jest.Mock; warn: jest.Mock } {
  return { info: jest.fn(), warn: jest.fn() };
}

export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'rxjs-inference-tfjs-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function useBackend(name: string): Promise<void> {
  await tf.setBackend(name);
  await tf.ready();
}

export function context(modelId = 'test-model', signal = new AbortController().signal): InferenceContext {
  return { inferenceArgs: undefined, modelId, signal, scheduler: asyncScheduler };
}

/** Runs the handler on one batch, as the engine would. */
export function runBatch<O extends TfjsOutputMode>(
  handler: TfjsModelHandler<O>,
  model: TfjsModel,
  batch: readonly unknown[],
  modelId = 'test-model',
): Promise<readonly TfjsPrediction<O>[]> {
  return firstValueFrom(from(handler.runInference(batch as never, model, context(modelId))));
}

/** The single output of a single-output result. */
export function single(inference: unknown): TfjsOutput {
  const out = inference as TfjsOutput;
  if (!ArrayBuffer.isView(out.data)) throw new Error(`expected a single output, got ${Object.keys(out).join(', ')}`);
  return out;
}

/** Asserts element-wise closeness (absolute tolerance) and equal length. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
  }
  expect(worst).toBeLessThanOrEqual(tolerance);
}

/** Deterministic example vectors. */
export function vectors(count: number, size: number, seed = 11): number[][] {
  let s = seed;
  const next = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 4 - 2;
  };
  return Array.from({ length: count }, () => Array.from({ length: size }, next));
}

/** Waits for pending promise callbacks and timers (model release after unsubscribe is asynchronous). */
export function settle(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
