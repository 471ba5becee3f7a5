import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The library's public API, as the benchmarks use it. */
export type Library = typeof import('../src/index.js');

/**
 * The library under test: the built CommonJS package (`dist/cjs`, what users run; `npm run bench` builds it first),
 * or the TypeScript sources with `BENCH_FROM=src` (no build needed while iterating).
 */
export function loadLibrary(): { lib: Library; from: string } {
  const requireFromHere = createRequire(__filename);
  if (process.env.BENCH_FROM === 'src') return { lib: requireFromHere('../src/index.ts') as Library, from: 'src' };
  try {
    return { lib: requireFromHere(join(__dirname, '..', 'dist', 'cjs', 'index.js')) as Library, from: 'dist/cjs' };
  } catch (error) {
    throw new Error(`Cannot load dist/cjs (run \`npm run build\` first, or set BENCH_FROM=src): ${String(error)}`);
  }
}
