import { execFileSync } from 'node:child_process';
import { readFileSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Turns a TF.js model's weight file into a named pipe, so that its load really takes as long as the test decides:
 * the loader's (asynchronous) read of the weights waits until `release()` writes them. `opened` resolves once the
 * command has opened the weights for reading, i.e. is loading the model. Every load reads the pipe again: a second
 * load waits for a second `release()`.
 */
export function slowWeights(modelJson: string): { opened: () => Promise<void>; release: () => Promise<void> } {
  const manifest = JSON.parse(readFileSync(modelJson, 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const path = join(dirname(modelJson), manifest.weightsManifest[0].paths[0]);
  const bytes = readFileSync(path);
  unlinkSync(path);
  execFileSync('mkfifo', [path]);
  let writer: ReturnType<typeof open> | undefined;
  const opened = (): Promise<void> => {
    // Opening a pipe for writing waits for its reader.
    writer ??= open(path, 'w');
    return writer.then(() => undefined);
  };
  const release = async (): Promise<void> => {
    const handle = await (writer ?? open(path, 'w'));
    writer = undefined;
    await handle.write(bytes);
    await handle.close();
  };
  return { opened, release };
}
