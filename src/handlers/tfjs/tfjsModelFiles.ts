import type { io } from '@tensorflow/tfjs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True for `http://` and `https://` URLs, which TensorFlow.js's own HTTP loader reads. */
export function isHttpUrl(uri: string): boolean {
  return /^https?:\/\//i.test(uri);
}

/**
 * True for a local path or `file://` URL. Other `scheme://` URIs (`indexeddb://`, a custom router...) are left to
 * TensorFlow.js; a Windows drive letter (`C:\`) is a path.
 */
export function isLocalPath(uri: string): boolean {
  return /^file:\/\//i.test(uri) || !/^[a-z][a-z0-9+.-]+:\/\//i.test(uri);
}

/**
 * An `IOHandler` that reads a TensorFlow.js `model.json` and its weight files from the local file system, without
 * `@tensorflow/tfjs-node` (whose `file://` loader needs the native addon).
 *
 * `uri` is the `model.json` path, its directory, or a `file://` URL. Weight files are read in manifest order and
 * handed to TensorFlow.js as one buffer.
 *
 * @example
 * const model = await tf.loadLayersModel(fileModelIOHandler('./models/mlp/model.json'));
 */
export function fileModelIOHandler(uri: string): io.IOHandler {
  return {
    load: async () => {
      let path = /^file:\/\//i.test(uri) ? fileURLToPath(uri) : resolve(uri);
      if ((await stat(path)).isDirectory()) path = join(path, 'model.json');
      const text = await readFile(path, 'utf8');
      let json: io.ModelJSON;
      try {
        json = JSON.parse(text) as io.ModelJSON;
      } catch (error) {
        throw new Error(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
      }
      if (json === null || typeof json !== 'object' || json.modelTopology === undefined) {
        throw new Error(`${path} is not a TensorFlow.js model.json: it has no \`modelTopology\`.`);
      }
      const { weightsManifest, ...rest } = json as io.ModelJSON & Record<string, unknown>;
      if (weightsManifest === undefined || weightsManifest === null) return rest as io.ModelArtifacts;
      const weightSpecs: io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const file of group.paths) buffers.push(await readFile(join(dirname(path), file)));
      }
      return { ...rest, weightSpecs, weightData: concatBuffers(buffers) } as io.ModelArtifacts;
    },
  };
}

function concatBuffers(parts: readonly Uint8Array[]): ArrayBuffer {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out.buffer;
}

/** Reads the `format` of a model's artifacts (`'layers-model'`, `'graph-model'`), for a clear type mismatch error. */
export function formatOf(artifacts: io.ModelArtifacts): string | undefined {
  if (typeof artifacts.format === 'string') return artifacts.format;
  const topology = artifacts.modelTopology as { node?: unknown; class_name?: unknown } | undefined;
  if (topology && Array.isArray(topology.node)) return 'graph-model';
  if (topology && typeof topology.class_name === 'string') return 'layers-model';
  return undefined;
}
