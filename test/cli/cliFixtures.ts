import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { mlp, prng, type OnnxFixture } from '../../scripts/fixtures/onnx';

/** The CLI tests' model: a small MLP 8 → 16 → 4 built by the repository, with its plain-JS reference. */
export const FEATURES = 8;

/** Writes the MLP (seeded) as `<name>.onnx` in `dir`; returns its path and fixture. */
export function writeMlp(dir: string, name = 'mlp', seed = 42): { path: string; fixture: OnnxFixture } {
  const fixture = mlp([FEATURES, 16, 4], { seed, name });
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, fixture.bytes);
  return { path, fixture };
}

/** `count` deterministic feature vectors (4 decimals, so JSON holds them exactly as float64). */
export function featureRows(count: number, seed = 7): number[][] {
  const random = prng(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: FEATURES }, () => Number((random() * 2 - 1).toFixed(4))),
  );
}

/** The fixture's reference output for one feature vector. */
export function reference(fixture: OnnxFixture, features: readonly number[]): number[] {
  const out = fixture.forward({ input: { type: 'float32', data: Float32Array.from(features), dims: [FEATURES] } });
  return Array.from(out.output.data as Float32Array);
}

/** Parses JSON lines. */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Standard streams for an in-process run: stdin to write to, stdout/stderr collected as text. */
export function memoryIO(isTTY = false) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY });
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { io: { stdin, stdout, stderr }, stdout: () => out, stderr: () => err };
}

/** Any ANSI escape or other control character except the line break. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u0009\u000b-\u001f\u007f]/;
