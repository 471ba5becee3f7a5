#!/usr/bin/env node
// The `rxjs-inference` command: a CommonJS shim over the built CLI (dist/cjs/cli/main.js).
'use strict';

const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'cjs', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write(
    'rxjs-inference: the package is not built (dist/cjs/cli/main.js is missing): run `npm run build` first.\n',
  );
  process.exit(2);
}
// Loading the command takes a moment: a listener from the start keeps a SIGINT/SIGTERM meanwhile from killing the
// process (the default action). The signal is dispatched once the event loop runs, to the command's own handler, so it
// still ends the job with exit code 130 and the summary.
const held = () => undefined;
process.on('SIGINT', held);
process.on('SIGTERM', held);
require(main).main(process.argv.slice(2));
process.off('SIGINT', held);
process.off('SIGTERM', held);
