/** Exit codes of the `rxjs-inference` command (documented in `--help` and docs/cli.md). */
export const EXIT_OK = 0;
/** Some records failed (they went to the dead-letter file, or to standard error without one). */
export const EXIT_RECORDS_FAILED = 1;
/** Usage error, unreadable input, model load failure, or the job could not run. */
export const EXIT_USAGE = 2;
/** Interrupted (SIGINT / SIGTERM) before the input was done. */
export const EXIT_INTERRUPTED = 130;
/** The reader of the output went away (`| head -1`): 128 + SIGPIPE, what a Unix tool killed by SIGPIPE reports. */
export const EXIT_BROKEN_PIPE = 141;

/** A mistake in the command line or its files: reported in one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError' as const;
}

/** A signal came before the job could start (while the model loaded): nothing was read or written. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError' as const;
}
