#!/usr/bin/env node
// The `rxjs-inference` command: a CommonJS shim over the built CLI, bundled into one file (dist/cjs/cli/bundle.js, the
// CommonJS build of src/cli/main.ts with rxjs and the CLI's dependencies; scripts/build.mjs) so that it starts fast,
// run with V8's code cache from earlier runs (bin/codeCache.js).
'use strict';

const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'cjs', 'cli', 'bundle.js');
if (!existsSync(main)) {
  process.stderr.write(
    'rxjs-inference: the package is not built (dist/cjs/cli/bundle.js is missing): run `npm run build` first.\n',
  );
  process.exit(2);
}
// Loading the command takes a moment: a listener from the start keeps a SIGINT/SIGTERM meanwhile from killing the
// process (the default action). The signal is dispatched once the event loop runs, to the command's own handler, so it
// still ends the job with exit code 130 and the summary.
const held = () => undefined;
process.on('SIGINT', held);
process.on('SIGTERM', held);
require('./codeCache.js').loadWithCodeCache(main, process.argv[2], process.argv.slice(2)).main(process.argv.slice(2));
process.off('SIGINT', held);
process.off('SIGTERM', held);
