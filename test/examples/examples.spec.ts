import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

// Every example is a runnable script that imports only the public entry points; each runs here as a smoke test
// (type-checking them is `npm run typecheck`).
const root = join(__dirname, '..', '..');
const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts') && !f.startsWith('_'));
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsx, '--tsconfig', join(root, 'tsconfig.json'), join('examples', file)],
      { cwd: root, timeout: 90_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('examples', () => {
  it('has the patterns the README links to', () => {
    expect(examples).toEqual(
      expect.arrayContaining([
        'onnx-classification.ts',
        'tfjs-classification.ts',
        'keyed-models.ts',
        'ab-test.ts',
        'cascade.ts',
        'live-refresh.ts',
        'dead-letters.ts',
        'remote-model.ts',
        'text-generation.ts',
      ]),
    );
  });

  it.each(examples)(
    '%s runs to completion and prints results',
    async (file) => {
      const { code, stdout, stderr } = await run(file);
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout.trim().split('\n').length).toBeGreaterThan(1);
    },
    120_000,
  );
});
