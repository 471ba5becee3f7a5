import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { UsageError } from './UsageError.js';

/** Opens an input file for reading; a missing or unreadable file is a usage error. */
export async function openInput(path: string): Promise<{ stream: ReadStream; isFile: boolean }> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--input \`${path}\`: ${error.code === 'ENOENT' ? 'no such file' : error.message}.`);
  });
  if (info.isDirectory()) throw new UsageError(`--input \`${path}\` is a directory, not a JSON-lines file.`);
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) => reject(new UsageError(`--input \`${path}\`: ${error.message}.`)));
  });
  return { stream, isFile: info.isFile() };
}

/** Opens (creates or truncates) an output file; a path that cannot be written is a usage error. */
export async function openOutput(path: string, option: string): Promise<WriteStream> {
  const stream = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) => reject(new UsageError(`${option} \`${path}\`: ${error.message}.`)));
  });
  return stream;
}

/**
 * Counts the lines of a file (line breaks, plus a last line without one) by streaming it once: no line is decoded or
 * kept, so it costs a fast sequential read even for huge files. Gives the progress bar its total and ETA.
 */
export async function countLines(path: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    let at = chunk.indexOf(10);
    while (at >= 0) {
      lines++;
      at = chunk.indexOf(10, at + 1);
    }
    if (chunk.length > 0) last = chunk[chunk.length - 1];
  }
  return last === 10 ? lines : lines + 1;
}
