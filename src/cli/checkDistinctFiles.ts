import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './UsageError.js';

/** One file option of the command line: its flag and the path given. */
export interface FileOption {
  readonly option: string;
  readonly path: string | undefined;
}

/** Where a path leads: the canonical path (symbolic links resolved) and, for an existing file, its inode. */
interface Target {
  readonly real: string;
  readonly inode: string | undefined;
}

/** Standard input/output (`-`) and stream URLs (`redis://...`) are not files: they cannot clash. */
function isFilePath(path: string | undefined): path is string {
  return path !== undefined && path !== '-' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(path);
}

function targetOf(path: string): Target {
  const absolute = resolve(path);
  let real: string;
  try {
    real = realpathSync(absolute);
  } catch {
    // Not there yet (an output to create): where it would be, through its directory's real path.
    try {
      real = join(realpathSync(dirname(absolute)), basename(absolute));
    } catch {
      real = absolute;
    }
  }
  let inode: string | undefined;
  try {
    const info = statSync(real);
    // Hard links share device and inode; a character device (/dev/null, a terminal) may be named twice harmlessly.
    if (info.isFile()) inode = `${info.dev}:${info.ino}`;
  } catch {
    inode = undefined;
  }
  return { real, inode };
}

/**
 * Refuses, as a usage error, any two file options that name the same file — after resolving relative paths, symbolic
 * links and hard links — so that `--output` can never truncate the `--input` it is reading, nor two writers
 * interleave in one file (#13 item 4). Called before anything is opened for writing.
 */
export function checkDistinctFiles(options: readonly FileOption[]): void {
  const seen: { readonly option: string; readonly path: string; readonly target: Target }[] = [];
  for (const { option, path } of options) {
    if (!isFilePath(path)) continue;
    const target = targetOf(path);
    const clash = seen.find(
      (s) => s.target.real === target.real || (target.inode !== undefined && s.target.inode === target.inode),
    );
    if (clash !== undefined) {
      const same = clash.path === path ? '' : ` (\`${clash.path}\` and \`${path}\` are the same file)`;
      throw new UsageError(
        `${clash.option} and ${option} name the same file${same}: \`${path}\`. Give each its own file; ` +
          'nothing was written.',
      );
    }
    seen.push({ option, path, target });
  }
}
