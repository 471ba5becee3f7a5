// Builds dist/ once before the suite when it is missing or older than the sources, so tests that spawn the real
// binary or load the package through its exports map run against the current code on a clean clone.
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

module.exports = async function globalSetup() {
  // The Redis suites skip themselves without redis-server (test/connectors/redis/redisServer.ts): say so once.
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.warn(
      '\n[globalSetup] redis-server is not on PATH: the Redis tests are SKIPPED (apt-get install redis-server).',
    );
  }
  const root = join(__dirname, '..');
  const stamp = join(root, 'dist', '.buildstamp');
  const sourcesChanged = () => newestMtime(join(root, 'src')) > statSync(stamp).mtimeMs;
  if (!existsSync(stamp) || sourcesChanged()) {
    try {
      execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
    } catch {
      // Only the tests that load dist/ (package exports, CLI) need the build; they fail on their own, clearly,
      // while every other test still runs. CI's `npm run typecheck` reports the compile error itself.
      console.warn('\n[globalSetup] `npm run build` failed: tests that use dist/ will fail.\n');
    }
  }
};
