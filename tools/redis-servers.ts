/**
 * @module Starts throw-away redis-server processes for tests and the benchmark: single servers (restartable, with a
 * password or TLS) and a 3-master cluster on loopback ports. Each lives in its own temp dir.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function cli(port: number, args: string[], extra: string[] = []): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...extra, ...args], {
    timeout: 10_000,
  });
  return stdout;
}

export interface RedisServerOptions {
  port?: number;
  password?: string;
  /** Extra redis-server arguments, e.g. TLS ones. */
  args?: string[];
  /** redis-cli args needed to reach it (e.g. --tls --cacert …). */
  cliArgs?: string[];
}

/** One redis-server child process that can be stopped and started again on the same port. */
export class RedisServerProcess {
  port = 0;
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'cw-redis-'));

  constructor(private readonly opts: RedisServerOptions = {}) {}

  get url(): string {
    return `redis://${this.opts.password ? `:${encodeURIComponent(this.opts.password)}@` : ''}127.0.0.1:${this.port}`;
  }

  /** Starts the server; a no-op while it is already running (so "make sure it is up" is safe). */
  async start(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) return;
    if (!this.port) this.port = this.opts.port ?? (await freePort());
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
    ];
    if (this.opts.password) args.push('--requirepass', this.opts.password);
    args.push(...(this.opts.args ?? []));
    this.proc = spawn('redis-server', args, { stdio: 'ignore' });
    const cliExtra = [
      ...(this.opts.cliArgs ?? []),
      ...(this.opts.password ? ['-a', this.opts.password, '--no-auth-warning'] : []),
    ];
    await waitFor(
      async () => (await cli(this.port, ['ping'], cliExtra)).includes('PONG'),
      10_000,
      `redis-server on ${this.port}`,
    );
  }

  /** Kills the server (SIGKILL: data is gone, as after a crash) and waits for the exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A 3-master Redis Cluster on loopback. */
export class RedisClusterProcess {
  readonly nodes: RedisServerProcess[] = [];

  get url(): string {
    return this.nodes.map((n) => `redis://127.0.0.1:${n.port}`).join(',');
  }

  async start(masters = 3): Promise<void> {
    for (let i = 0; i < masters; i++) {
      const node: RedisServerProcess = new RedisServerProcess({
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ],
      });
      this.nodes.push(node);
    }
    await Promise.all(this.nodes.map((n) => n.start()));
    const addrs = this.nodes.map((n) => `127.0.0.1:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    await waitFor(
      async () => {
        for (const n of this.nodes)
          if (!(await cli(n.port, ['cluster', 'info'])).includes('cluster_state:ok')) return false;
        return true;
      },
      20_000,
      'cluster_state:ok',
    );
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
  }
}
