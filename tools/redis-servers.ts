/**
 * @module Starts throw-away redis-server processes for tests and the benchmark: single servers (restartable, with a
 * password or TLS) and a cluster on loopback ports (masters, optional replicas; live slot migration, adding a
 * master, manual failover). Each server lives in its own temp dir.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { parseClusterNodes, viewsAgree, type ClusterNodeInfo } from './cluster-topology.js';

export { parseClusterNodes, type ClusterNodeInfo } from './cluster-topology.js';

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

  /** The server's process id while it runs. */
  get pid(): number | undefined {
    return this.isRunning ? this.proc?.pid : undefined;
  }

  get isRunning(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
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

export interface ClusterStartOptions {
  /** Masters (slots are split evenly). @defaultValue 3 */
  masters?: number;
  /** Replicas per master. @defaultValue 0 */
  replicas?: number;
  /** cluster-node-timeout, ms: how long a master may be unreachable before a replica is promoted. @defaultValue 2000 */
  nodeTimeoutMs?: number;
}

/** A Redis Cluster on loopback: masters, optionally replicas. */
export class RedisClusterProcess {
  readonly nodes: RedisServerProcess[] = [];
  private nodeTimeoutMs = 2_000;

  /** Seed URL of every node started (a dead one is skipped by the client). */
  get url(): string {
    return this.nodes.map((n) => `redis://127.0.0.1:${n.port}`).join(',');
  }

  private newNode(): RedisServerProcess {
    const node: RedisServerProcess = new RedisServerProcess({
      args: [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        String(this.nodeTimeoutMs),
      ],
    });
    this.nodes.push(node);
    return node;
  }

  async start(opts: number | ClusterStartOptions = {}): Promise<void> {
    const o: ClusterStartOptions = typeof opts === 'number' ? { masters: opts } : opts;
    const masters = o.masters ?? 3;
    const replicas = o.replicas ?? 0;
    this.nodeTimeoutMs = o.nodeTimeoutMs ?? 2_000;
    for (let i = 0; i < masters * (1 + replicas); i++) this.newNode();
    await Promise.all(this.nodes.map((n) => n.start()));
    const addrs = this.nodes.map((n) => `127.0.0.1:${n.port}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addrs, '--cluster-replicas', String(replicas), '--cluster-yes'],
      { timeout: 30_000 },
    );
    await this.waitHealthy(20_000, masters * replicas);
  }

  /**
   * Waits until every running node says `cluster_state:ok` and all their `CLUSTER NODES` views agree (roles,
   * masters, slots), with `replicas` replicas attached when given. `cluster_state:ok` alone comes first: a
   * node can still list a would-be replica as a master with no slots (and a test would pick it as a target).
   */
  async waitHealthy(timeoutMs = 20_000, replicas?: number): Promise<void> {
    await waitFor(
      async () => {
        for (const n of this.running())
          if (!(await cli(n.port, ['cluster', 'info'])).includes('cluster_state:ok')) return false;
        return viewsAgree(await this.views(), replicas);
      },
      timeoutMs,
      'cluster_state:ok and every node agreeing on the topology',
    );
  }

  /** Every running node's `CLUSTER NODES`. */
  async views(): Promise<ClusterNodeInfo[][]> {
    return Promise.all(
      this.running().map(async (n) => parseClusterNodes(await cli(n.port, ['cluster', 'nodes']))),
    );
  }

  /** The nodes whose process is up. */
  running(): RedisServerProcess[] {
    return this.nodes.filter((n) => n.isRunning);
  }

  /** `CLUSTER NODES` as seen by a running node. */
  async topology(): Promise<ClusterNodeInfo[]> {
    const n = this.running()[0];
    if (!n) throw new Error('no cluster node is running');
    return parseClusterNodes(await cli(n.port, ['cluster', 'nodes']));
  }

  /** The master serving `slot`. */
  async ownerOf(slot: number): Promise<ClusterNodeInfo> {
    const owner = (await this.topology()).find(
      (n) => n.role === 'master' && !n.failed && n.slots.includes(slot),
    );
    if (!owner) throw new Error(`no master serves slot ${slot}`);
    return owner;
  }

  /**
   * Moves `slots` to the master `to` live, as `redis-cli --cluster reshard` does: IMPORTING / MIGRATING,
   * MIGRATE of the keys in batches, then SETSLOT NODE on every master. Clients see MOVED and ASK meanwhile.
   */
  async migrateSlots(slots: readonly number[], to: ClusterNodeInfo): Promise<void> {
    await this.waitHealthy(20_000);
    const masters = (await this.topology()).filter((n) => n.role === 'master' && !n.failed);
    if (!masters.some((m) => m.id === to.id)) throw new Error(`node ${to.addr} is not a master`);
    const [toHost = '127.0.0.1'] = to.addr.split(':');
    const conns = new Map<string, Redis>();
    const conn = (n: ClusterNodeInfo): Redis => {
      let c = conns.get(n.id);
      if (!c) conns.set(n.id, (c = new Redis({ host: '127.0.0.1', port: n.port, lazyConnect: false })));
      return c;
    };
    try {
      for (const slot of slots) {
        const from = masters.find((m) => m.slots.includes(slot));
        if (!from || from.id === to.id) continue;
        const src = conn(from);
        const dst = conn(to);
        await dst.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id);
        await src.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id);
        for (;;) {
          const keys = (await src.call('CLUSTER', 'GETKEYSINSLOT', slot, 500)) as string[];
          if (keys.length === 0) break;
          await src.call('MIGRATE', toHost, to.port, '', 0, 10_000, 'KEYS', ...keys);
        }
        // The new owner first (so it stops answering ASK), then the old one, then everyone else.
        await dst.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
        await src.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
        for (const m of masters)
          if (m.id !== to.id && m.id !== from.id)
            await conn(m)
              .call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id)
              .catch(() => undefined);
      }
    } finally {
      for (const c of conns.values()) c.disconnect();
    }
  }

  /** Starts a new empty master and joins it to the cluster (no slots until some are migrated to it). */
  async addMaster(): Promise<ClusterNodeInfo> {
    const node = this.newNode();
    await node.start();
    const seed = this.running().find((n) => n !== node);
    if (!seed) throw new Error('no cluster node is running');
    await cli(node.port, ['cluster', 'meet', '127.0.0.1', String(seed.port)]);
    let info: ClusterNodeInfo | undefined;
    await waitFor(
      async () => {
        for (const n of this.running()) {
          const seen = parseClusterNodes(await cli(n.port, ['cluster', 'nodes'])).find(
            (x) => x.port === node.port,
          );
          if (!seen) return false;
          info = seen;
        }
        return true;
      },
      10_000,
      'the new master to be known to every node',
    );
    // A node that has just met the others answers CLUSTERDOWN (e.g. to MIGRATE) until it has the slot map.
    await this.waitHealthy(20_000);
    return info as ClusterNodeInfo;
  }

  /** `CLUSTER FAILOVER` on a replica: it takes over its master's slots with no data loss. */
  async manualFailover(replica: ClusterNodeInfo): Promise<void> {
    await cli(replica.port, ['cluster', 'failover']);
  }

  /** The process of a node. */
  processOf(node: ClusterNodeInfo): RedisServerProcess {
    const p = this.nodes.find((n) => n.port === node.port);
    if (!p) throw new Error(`no process on port ${node.port}`);
    return p;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
  }
}
