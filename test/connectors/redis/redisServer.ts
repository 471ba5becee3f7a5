import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether `redis-server` is on PATH (Debian: `apt-get install redis-server`; CI installs it in .ci/system-packages). */
export const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * `describe` when `redis-server` is installed; otherwise a skipped `describe` whose title says why, so a machine
 * without Redis reports one clear line instead of failures.
 */
export function describeRedis(title: string, body: () => void): void {
  if (hasRedisServer) describe(title, body);
  else describe.skip(`${title} — SKIPPED: redis-server is not on PATH (apt-get install redis-server)`, body);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * One `redis-server` of a test, on a random 127.0.0.1 port with its own temporary directory and the append-only
 * file on (`appendonly yes`, no RDB snapshots), so that a restart keeps every stream and consumer group.
 */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  /** Starts a server and waits until it accepts connections. */
  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'redis-test-')));
    await server.launch();
    return server;
  }

  /** `redis://127.0.0.1:PORT/STREAM` (with `query` appended, e.g. `?group=g`). */
  url(stream: string, query = ''): string {
    return `redis://127.0.0.1:${this.port}/${stream}${query}`;
  }

  private launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--save', ''],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = child;
    return new Promise<void>((resolve, reject) => {
      let log = '';
      const onData = (chunk: Buffer): void => {
        log += chunk.toString();
        if (/Ready to accept connections/.test(log)) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.resume();
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${log}`)));
    });
  }

  /** Ends the server with `signal` and waits for its exit. */
  private async halt(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  /** Kills the server (SIGKILL: no shutdown, only what the append-only file already holds survives). */
  kill(): Promise<void> {
    return this.halt('SIGKILL');
  }

  /** Starts the server again on the same port and directory (it reloads its append-only file). */
  restart(): Promise<void> {
    return this.launch();
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    await this.halt('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
