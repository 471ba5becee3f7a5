import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The example is a user's program: run it as one (npx tsx), through the public entry points.
describe('examples/tfjs-classification.ts', () => {
  it('classifies the flowers through runInference', async () => {
    const root = join(__dirname, '..', '..', '..');
    const { stdout } = await promisify(execFile)(
      join(root, 'node_modules', '.bin', 'tsx'),
      [join(root, 'examples', 'tfjs-classification.ts')],
      { cwd: root, timeout: 60_000 },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/using the TensorFlow.js '(wasm|tensorflow)' backend/);
    const species = lines.slice(1).map((line) => /→ (\w+)/.exec(line)?.[1]);
    expect(species).toEqual(['setosa', 'versicolor', 'virginica', 'setosa', 'versicolor', 'virginica']);
  });
});
