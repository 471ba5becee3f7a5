// Runs the command's bundle with V8's code cache, kept between runs in a folder of the user's own (Node 20 has no
// `module.enableCompileCache()`; this is that cache done by hand, as Node ≥ 22 does it). The first run compiles as
// usual and, as it exits, writes the bytecode of every function it ran; later runs read that instead of compiling
// again: ≈ 40 ms less CPU in the first seconds of every `predict` (issue 11, the main job).
//
// - Where: $RXJS_INFERENCE_CODE_CACHE_DIR, else <os.tmpdir()>/rxjs-inference-code-cache-<uid>; created with mode 0700
//   and used only when it is a real folder (no link) owned by this user that no one else may write to (V8 checks a
//   cache's length and flags, not its code: a cache someone else could write would run their code, and a file
//   they could plant would redirect this command's writes). RXJS_INFERENCE_CODE_CACHE=0 turns it off.
// - Which: one file per bundle path and command (`predict`, `serve`, …: a command's first run that did its job decides what its cache
//   holds), named after SHA-256s of them and of the bundle's content, the Node version and the architecture, so a
//   rebuilt, patched or moved bundle never meets another's cache; writing a slot's new cache removes its old ones. V8 itself rejects a cache made under other flags; a rejected
//   or unreadable cache is compiled past and written again.
// - Only a run that ends with exit code 0 or 1 writes a cache; --help, --version and --enable-source-maps use none.
// - Any failure to read or write the cache only costs the time it would have saved: the bundle always runs.
'use strict';

const { createHash } = require('node:crypto');
const { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { tmpdir } = require('node:os');
const { basename, dirname, join } = require('node:path');
const vm = require('node:vm');

/** A short SHA-256 of `text`, for file names. */
function hash(text) {
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

/** The cache folder, created if need be; `undefined` when turned off or not safely ours. */
function cacheDir() {
  if (process.env.RXJS_INFERENCE_CODE_CACHE === '0') return undefined;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const dir = process.env.RXJS_INFERENCE_CODE_CACHE_DIR || join(tmpdir(), `rxjs-inference-code-cache-${uid ?? 'user'}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const info = lstatSync(dir);
    if (!info.isDirectory()) return undefined;
    // Another user's folder, or one that group or others may write to (e.g. RXJS_INFERENCE_CODE_CACHE_DIR=/tmp).
    if (uid !== undefined && (info.uid !== uid || (info.mode & 0o022) !== 0)) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * Runs the CommonJS file `file` as `require` would (same `exports`, `require`, `module`, `__filename`, `__dirname`)
 * and returns its exports, with its code cache for `command` when there is a usable one; writes the cache at exit when
 * there was none. Without a cache folder it is plainly required.
 */
function loadWithCodeCache(file, command = '', args = []) {
  // `--help` and `--version` run almost nothing of a command: read no cache, and leave none that would hold only that.
  if (
    args[0] === 'help' ||
    args.some((arg) => arg === '--help' || arg === '-h' || arg === '--version' || arg === '-V')
  ) {
    return require(file);
  }
  // Node maps stack traces through the bundle's source map (--enable-source-maps) only for files it loads itself, not
  // for a vm.Script: a user debugging with it gets the plain require, and mapped traces.
  if (process.sourceMapsEnabled === true) return require(file);
  const dir = cacheDir();
  if (dir === undefined) return require(file);
  const source = readFileSync(file, 'utf8');
  // The slot: this bundle file and command; the version: its content, the Node version and the architecture.
  const slot = hash(`${file}\0${/^[a-z]+$/.test(command) ? command : ''}`);
  const cacheFile = join(dir, `${slot}-${hash(`${process.version}\0${process.arch}\0${source}`)}.cache`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // None yet: written at exit.
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const module = { exports: {}, id: file, filename: file, loaded: false };
  script.runInThisContext()(module.exports, Module.createRequire(file), module, file, dirname(file));
  module.loaded = true;
  if (cachedData === undefined || script.cachedDataRejected === true) {
    process.once('exit', (code) => {
      // Only a run that did its job (exit 0: all scored, 1: some records failed) leaves the cache its slot keeps until
      // the next build: a first run that stopped at a usage error or a model that did not load (2), an interrupt (130)
      // or a closed output (141) compiled only the start of the command, and every later run would compile the rest.
      if (code !== 0 && code !== 1) return;
      // Written whole under a private name, then renamed: a concurrent run reads the old file, the new one or none.
      const partial = `${cacheFile}.${process.pid}`;
      try {
        writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
        renameSync(partial, cacheFile);
        // The slot's caches of earlier builds (or Node versions) are of no more use.
        for (const name of readdirSync(dir)) {
          if (name.startsWith(`${slot}-`) && name !== basename(cacheFile)) rmSync(join(dir, name), { force: true });
        }
      } catch {
        // A full disk, a read-only folder, a race with another run: the command's exit must not change.
        try {
          rmSync(partial, { force: true });
        } catch {
          // Left behind; a later run writes its own.
        }
      }
    });
  }
  return module.exports;
}

module.exports = { loadWithCodeCache };
