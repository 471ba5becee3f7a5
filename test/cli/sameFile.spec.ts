import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runCli } from '../../src/cli/runCli';
import { featureRows, memoryIO, writeMlp } from './cliFixtures';

// #13 item 4: any two of input, output, dead letter (and summary) naming one file is a usage error, before anything
// is opened for writing — after resolving relative paths, symbolic links and hard links.
describe('runCli refuses one file for two roles', () => {
  let dir: string;
  let model: string;
  let input: string;
  const text = featureRows(5)
    .map((features) => JSON.stringify({ features }))
    .join('\n')
    .concat('\n');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-same-'));
    ({ path: model } = writeMlp(dir));
    input = join(dir, 'in.jsonl');
    writeFileSync(input, text);
    symlinkSync(input, join(dir, 'link.jsonl'));
    linkSync(input, join(dir, 'hard.jsonl'));
    mkdirSync(join(dir, 'sub'));
    symlinkSync(join(dir, 'sub'), join(dir, 'sublink'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: readonly [string, () => string[], RegExp, () => string[]][] = [
    ['--output equal to --input', () => ['-i', input, '-o', input], /--input and --output/, () => []],
    [
      '--output naming the input by a relative path',
      () => ['-i', input, '-o', relative(process.cwd(), input)],
      /--input and --output/,
      () => [],
    ],
    [
      '--output through a symbolic link',
      () => ['-i', input, '-o', join(dir, 'link.jsonl')],
      /--input and --output/,
      () => [],
    ],
    [
      '--output through a hard link',
      () => ['-i', input, '-o', join(dir, 'hard.jsonl')],
      /--input and --output/,
      () => [],
    ],
    [
      '--dead-letter equal to --output (a new file, one through a linked directory)',
      () => ['-i', input, '-o', join(dir, 'sub', 'out.jsonl'), '--dead-letter', join(dir, 'sublink', 'out.jsonl')],
      /--output and --dead-letter/,
      () => [join(dir, 'sub', 'out.jsonl')],
    ],
    [
      '--summary-json equal to --input',
      () => ['-i', input, '-o', join(dir, 'o2.jsonl'), '--summary-json', input],
      /--input and --summary-json/,
      () => [join(dir, 'o2.jsonl')],
    ],
  ];
  it.each(cases)('%s: exit 2, the input intact, nothing created', async (_what, args, named, notCreated) => {
    const { io, stderr } = memoryIO();
    const code = await runCli(['predict', '-m', model, ...args(), '--no-progress'], io);
    expect(code).toBe(2);
    expect(stderr()).toMatch(named);
    expect(stderr()).toMatch(/same file/);
    expect(readFileSync(input, 'utf8')).toBe(text);
    for (const path of notCreated()) expect(existsSync(path)).toBe(false);
  });

  it('distinct files (and standard output twice) still run', async () => {
    const { io } = memoryIO();
    const out = join(dir, 'fine.jsonl');
    expect(await runCli(['predict', '-m', model, '-i', input, '-o', out, '--no-progress', '-q'], io)).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(5);
    expect(await runCli(['predict', '-m', model, '-i', input, '-o', '-', '--no-progress', '-q'], memoryIO().io)).toBe(
      0,
    );
  });
});
