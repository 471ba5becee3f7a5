import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import { runCli } from './runCli.js';
import { EXIT_BROKEN_PIPE, EXIT_INTERRUPTED } from './UsageError.js';

function packageVersion(): string {
  try {
    // dist/cjs/cli/main.js → the package root; absent in the ES-module build, where `__dirname` does not exist.
    const root = typeof __dirname === 'string' ? join(__dirname, '..', '..', '..') : process.cwd();
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * The `rxjs-inference` executable (bin/rxjs-inference.js calls it): runs the command line, then sets the exit code.
 * Standard output carries the JSON lines only, so anything a library logs with `console.log`/`info`/`debug` (the
 * TensorFlow.js banner, for instance) is sent to standard error instead.
 */
export function main(argv: readonly string[] = process.argv.slice(2)): void {
  const toStderr = (...args: unknown[]): void => void process.stderr.write(format(...args) + '\n');
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    // A second Ctrl-C ends the process at once.
    if (++signals > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  runCli(
    argv,
    { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, signal: controller.signal },
    packageVersion(),
  ).then(
    (code) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.exitCode = code;
      // The output's reader is gone (`| head -1`): nothing more can be said; end now, as a SIGPIPE would.
      // Interrupted: everything is written; a model load still running (a signal came while it loaded) is not awaited.
      if (code === EXIT_BROKEN_PIPE || code === EXIT_INTERRUPTED) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`rxjs-inference: ${String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
