import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { LineLengthLimiter, readCutLine } from '../../src/cli/LineLengthLimiter';
import { LineSource } from '../../src/cli/LineSource';
import { LineWriter } from '../../src/cli/LineWriter';
import { countLines, openInput, openOutput } from '../../src/cli/openStreams';
import { ProgressReporter } from '../../src/cli/ProgressReporter';
import type { LineRecord } from '../../src/cli/recordParser';
import { UsageError } from '../../src/cli/UsageError';
import { CONTROL_CHARACTERS as CONTROL } from './cliFixtures';

describe('LineSource', () => {
  it('numbers lines from 1, skips blank ones, handles CRLF and a last line without a break', async () => {
    const source = new LineSource(Readable.from(['[1]\r\n\n  \n{"a"', ':2}\n[3]']));
    const lines: LineRecord[] = [];
    await new Promise<void>((resolve, reject) =>
      source.lines$.subscribe({ next: (l) => lines.push(l), error: reject, complete: resolve }),
    );
    expect(lines).toEqual([
      { line: 1, text: '[1]' },
      { line: 4, text: '{"a":2}' },
      { line: 5, text: '[3]' },
    ]);
    expect(source.blankLines).toBe(2);
    expect(source.linesRead).toBe(5);
  });

  it('skips a UTF-8 byte order mark at the start (also split across chunks); a lone CR is not a line break (as wc -l)', async () => {
    const read = async (chunks: (string | Buffer)[]) => {
      const source = new LineSource(Readable.from(chunks));
      const lines: LineRecord[] = [];
      await new Promise<void>((resolve, reject) =>
        source.lines$.subscribe({ next: (l) => lines.push(l), error: reject, complete: resolve }),
      );
      return { lines, read: source.linesRead };
    };
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const text = Buffer.from('[1]\n[2]\r[3]\r\n[4]\n');
    const expected = [
      { line: 1, text: '[1]' },
      { line: 2, text: '[2]\r[3]' },
      { line: 3, text: '[4]' },
    ];
    expect(await read([Buffer.concat([bom, text])])).toEqual({ lines: expected, read: 3 });
    expect(await read([bom.subarray(0, 2), Buffer.concat([bom.subarray(2), text])])).toEqual({
      lines: expected,
      read: 3,
    });
    // A CRLF split between two chunks is still one break; only a leading mark is skipped.
    expect(await read(['\ufeff[1]\r', '\n\ufeff[2]'])).toEqual({
      lines: [
        { line: 1, text: '[1]' },
        { line: 2, text: '\ufeff[2]' },
      ],
      read: 2,
    });
    expect(await read([Buffer.concat([bom, Buffer.from('[9]')])])).toEqual({
      lines: [{ line: 1, text: '[9]' }],
      read: 1,
    });
  });

  it('stops reading while paused and reads on after resume', async () => {
    const input = new PassThrough();
    const source = new LineSource(input);
    const lines: number[] = [];
    let done = false;
    source.lines$.subscribe({ next: (l) => lines.push(l.line), complete: () => (done = true) });
    input.write('[1]\n[2]\n');
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([1, 2]);
    source.pause();
    source.pause();
    expect(source.isPaused).toBe(true);
    input.write('[3]\n');
    input.end('[4]\n');
    await new Promise((r) => setTimeout(r, 20));
    expect(lines).toEqual([1, 2]);
    source.resume();
    source.resume();
    await new Promise((r) => setTimeout(r, 20));
    expect(lines).toEqual([1, 2, 3, 4]);
    expect(done).toBe(true);
  });

  it('forwards a stream error, and stops at unsubscribe', async () => {
    const input = new PassThrough();
    const source = new LineSource(input);
    const error = await new Promise<unknown>((resolve) => {
      source.lines$.subscribe({ error: resolve });
      input.destroy(new Error('disk on fire'));
    });
    expect(error).toEqual(new Error('disk on fire'));
    const other = new PassThrough();
    const seen: number[] = [];
    const subscription = new LineSource(other).lines$.subscribe((l) => seen.push(l.line));
    subscription.unsubscribe();
    other.end('[1]\n');
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([]);
  });
});

describe('LineLengthLimiter', () => {
  async function through(
    chunks: string[],
    maxBytes: number,
  ): Promise<{ out: Buffer[]; lines: ReturnType<typeof readCutLine>[] }> {
    const limiter = new LineLengthLimiter(maxBytes);
    const out: Buffer[] = [];
    limiter.on('data', (c: Buffer) => out.push(c));
    const done = new Promise((r) => limiter.on('end', r));
    for (const c of chunks) limiter.write(Buffer.from(c));
    limiter.end();
    await done;
    const lines = Buffer.concat(out).toString().split('\n').map(readCutLine);
    return { out, lines };
  }

  it('passes chunks without an over-long line through untouched', async () => {
    const chunk = Buffer.from('abc\ndefg\n');
    const limiter = new LineLengthLimiter(4);
    const seen: Buffer[] = [];
    limiter.on('data', (c: Buffer) => seen.push(c));
    limiter.write(chunk);
    await new Promise((r) => setImmediate(r));
    expect(seen[0]).toBe(chunk);
  });

  it('keeps the first bytes of a long line, drops the rest as it streams by, and records the full size', async () => {
    const { lines } = await through(['ab\n0123456', '789', '01234\ncd\n', 'x'.repeat(20)], 5);
    expect(lines).toEqual([
      { text: 'ab', tooLong: undefined },
      { text: '01234', tooLong: 15 },
      { text: 'cd', tooLong: undefined },
      { text: 'xxxxx', tooLong: 20 },
    ]);
  });

  it('bounds memory on a huge input without any line break', async () => {
    const limiter = new LineLengthLimiter(10);
    let bytes = 0;
    limiter.on('data', (c: Buffer) => (bytes += c.length));
    const done = new Promise((r) => limiter.on('end', r));
    const block = Buffer.alloc(1024 * 1024, 'x');
    for (let i = 0; i < 64; i++) limiter.write(block);
    limiter.end();
    await done;
    expect(bytes).toBeLessThan(100);
  });

  it('feeds LineSource, which reports the cut line with its size', async () => {
    const source = new LineSource(Readable.from(['[1]\n', 'y'.repeat(5000), '\n[2]\n']), 100);
    const lines: LineRecord[] = [];
    await new Promise<void>((resolve) => source.lines$.subscribe({ next: (l) => lines.push(l), complete: resolve }));
    expect(lines).toEqual([
      { line: 1, text: '[1]' },
      { line: 2, text: 'y'.repeat(100), tooLong: 5000 },
      { line: 3, text: '[2]' },
    ]);
  });
});

describe('LineWriter', () => {
  it('gathers lines into chunks and ends the stream', async () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    const writer = new LineWriter(stream, { chunkSize: 10 });
    writer.write('{"a":1}');
    writer.write('{"b":2}'); // 16 ≥ 10: written at once
    writer.write('{"c":3}');
    expect(chunks).toEqual(['{"a":1}\n{"b":2}\n']);
    await writer.end();
    expect(chunks.join('')).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
    expect(writer.count).toBe(3);
    expect(stream.writableFinished).toBe(true);
  });

  it('reports a full buffer (write returned false) and the drain, and leaves standard output open', async () => {
    const events: string[] = [];
    let release: (() => void) | undefined;
    const stream = new Writable({
      highWaterMark: 8,
      write(_chunk, _encoding, callback) {
        release = callback;
      },
    });
    const writer = new LineWriter(stream, {
      close: false,
      chunkSize: 1,
      blockAtBytes: 8,
      onBlocked: () => events.push('blocked'),
      onDrain: () => events.push('drain'),
    });
    writer.write('0123456789');
    expect(writer.blocked).toBe(true);
    writer.write('more');
    expect(events).toEqual(['blocked']);
    release!();
    await new Promise((r) => setImmediate(r));
    release!();
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['blocked', 'drain']);
    expect(writer.blocked).toBe(false);
    const ended = writer.end();
    release?.();
    await ended;
    expect(stream.writableEnded).toBe(false);
  });

  it('reports blocked only when the stream holds more than its buffer and one chunk, not each time its buffer is full', async () => {
    const events: string[] = [];
    const pending: (() => void)[] = [];
    // A file stream's buffer (16 KB) is smaller than one chunk (64 KB): its write returns false after every chunk.
    const stream = new Writable({
      highWaterMark: 16 * 1024,
      write(_chunk, _encoding, callback) {
        pending.push(callback);
      },
    });
    const writer = new LineWriter(stream, {
      onBlocked: () => events.push('blocked'),
      onDrain: () => events.push('drain'),
    });
    const line = 'x'.repeat(1023);
    for (let i = 0; i < 70; i++) writer.write(line); // one 64 KB chunk written (70 KB), still held by the stream
    writer.flush();
    expect(stream.writableLength).toBe(70 * 1024);
    expect(writer.blocked).toBe(false);
    expect(events).toEqual([]);
    for (let i = 0; i < 70; i++) writer.write(line); // a second chunk while the first is still unwritten
    expect(stream.writableLength).toBeGreaterThan(16 * 1024 + 65536);
    expect(writer.blocked).toBe(true);
    expect(events).toEqual(['blocked']);
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(events).toEqual(['blocked', 'drain']);
    expect(writer.blocked).toBe(false);
    expect(writer.count).toBe(140);
  });

  it('reports the first stream error and drops later lines', async () => {
    const errors: Error[] = [];
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('EPIPE'));
      },
    });
    const writer = new LineWriter(stream, { chunkSize: 1, onError: (e) => errors.push(e) });
    writer.write('a');
    await new Promise((r) => setImmediate(r));
    writer.write('b');
    await writer.end();
    expect(errors.map((e) => e.message)).toEqual(['EPIPE']);
    expect(writer.error?.message).toBe('EPIPE');
  });
});

describe('files', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'cli-streams-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts lines without reading them, with or without a final line break', async () => {
    writeFileSync(join(dir, 'a'), 'x\ny\n');
    writeFileSync(join(dir, 'b'), 'x\ny');
    writeFileSync(join(dir, 'c'), '');
    expect(await countLines(join(dir, 'a'))).toBe(2);
    expect(await countLines(join(dir, 'b'))).toBe(2);
    expect(await countLines(join(dir, 'c'))).toBe(0);
  });

  it('turns missing inputs, directories and unwritable outputs into usage errors', async () => {
    await expect(openInput(join(dir, 'missing.jsonl'))).rejects.toThrow(
      new UsageError(`--input \`${join(dir, 'missing.jsonl')}\`: no such file.`),
    );
    await expect(openInput(dir)).rejects.toThrow(/is a directory/);
    await expect(openOutput(join(dir, 'no', 'such', 'dir.jsonl'), '--output')).rejects.toThrow(UsageError);
    const { stream, isFile } = await openInput(join(dir, 'a'));
    expect(isFile).toBe(true);
    stream.destroy();
  });
});

describe('ProgressReporter', () => {
  function capture(): { stream: Writable; text: () => string } {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        text += chunk.toString();
        callback();
      },
    });
    return { stream, text: () => text };
  }

  it('prints plain lines without control characters when standard error is not a terminal', () => {
    const { stream, text } = capture();
    let now = 0;
    const counts = { lines: 0, done: 0, failed: 0 };
    const progress = new ProgressReporter({
      stream,
      tty: false,
      total: 1000,
      intervalMs: 50,
      counts: () => counts,
      now: () => now,
    });
    progress.begin();
    Object.assign(counts, { lines: 250, done: 240, failed: 3 });
    now = 2000;
    progress.tick();
    progress.end();
    expect(text()).toBe('rxjs-inference: 250/1000 lines (25.0 %), 3 failed, 120 rec/s, ETA 6 s\n');
    const unknown = capture();
    new ProgressReporter({
      stream: unknown.stream,
      tty: false,
      total: undefined,
      intervalMs: 50,
      counts: () => counts,
      now: () => now,
    }).tick();
    expect(unknown.text()).toBe('rxjs-inference: 250 lines, 3 failed, 0 rec/s\n');
    expect(text() + unknown.text()).not.toMatch(CONTROL);
  });

  it('draws a cli-progress bar on a terminal', () => {
    const { stream, text } = capture();
    Object.assign(stream, {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    const progress = new ProgressReporter({
      stream,
      tty: true,
      total: 100,
      intervalMs: 50,
      counts: () => ({ lines: 50, done: 50, failed: 1 }),
      now: () => 1000,
    });
    progress.begin();
    progress.tick();
    progress.end();
    expect(text()).toMatch(/predict \|.*\| 50% \| 50\/100 lines \| \d+ rec\/s \| 1 failed \| ETA/);
  });
});
