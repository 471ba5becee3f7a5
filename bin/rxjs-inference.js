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
require(main).main(process.argv.slice(2));
