/**
 * Fault: a failover behind one address (a Sentinel- or cloud-managed VIP, a DNS name, a Kubernetes
 * Service). The worker reaches Redis through a TCP proxy this file owns: the replica is promoted, the old
 * master is demoted to its replica (its open connections stay and answer every write with READONLY), and
 * the proxy sends new connections to the new master. The worker must leave the demoted server and carry on.
 */
import { createServer, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { CycleResult } from '../../src/chain-worker/cycle.js';
import { ChainWorker, EXIT } from '../../src/chain-worker/worker.js';
import { BUILD_LEASE_MS, ModelBuilder } from '../../src/models/builder.js';
import type { GexModel } from '../../src/models/types.js';
import type { RedisServerProcess } from '../../tools/redis-servers.js';
import { ownRedis } from '../support/fault-kit.js';
import { TestBus } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';

/** A TCP proxy on 127.0.0.1: each new connection goes to the port `target` names at that moment. */
async function startProxy(target: { port: number }): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    upstream.connect(target.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('Redis failover behind one address', () => {
  const servers: RedisServerProcess[] = [];
  const direct: TestBus[] = [];
  let proxy: { close(): Promise<void> } | undefined;
  let h: Harness | undefined;
  let worker: ChainWorker | undefined;
  let builder: ModelBuilder | undefined;

  afterEach(async () => {
    worker?.stop();
    await worker?.shutdown().catch(() => undefined);
    worker = undefined;
    await builder?.stop();
    builder = undefined;
    await h?.close().catch(() => undefined);
    h = undefined;
    for (const b of direct.splice(0)) await b.close();
    await proxy?.close();
    proxy = undefined;
    for (const s of servers.splice(0)) await s.destroy();
  });

  it('the old master demoted (READONLY on the open connections): the worker reconnects and cycles on the new master', async () => {
    const a = await ownRedis();
    const b = await ownRedis();
    servers.push(a, b);
    const target = { port: a.port };
    const p = await startProxy(target);
    proxy = p;
    h = await startHarness(
      { name: 'single', url: `redis://127.0.0.1:${p.port}`, cluster: false },
      { env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.2' } },
    );
    const hh = h;
    const onA = new TestBus({ url: a.url, name: 'failover-a' });
    const onB = new TestBus({ url: b.url, name: 'failover-b' });
    direct.push(onA, onB);
    builder = new ModelBuilder({ ...hh, owner: 'b-failover' });
    const bld = builder;
    const w = new ChainWorker(
      {
        ...hh.deps,
        systemBus: hh.bus,
        config: { ...hh.config, symbols: ['I:SPX'] },
        onDirty: async () => void (await bld.drain()),
      },
      { id: 'w-failover' },
    );
    worker = w;
    const run = w.run();
    const goodAfter = (since: number): Promise<CycleResult> =>
      waitUntil(
        () => {
          const r = w.lastResults.get('I:SPX');
          const at = (w.heartbeat.state.lastCycle.SPX?.ts ?? 0) * 1000;
          return r?.ok && at > since ? r : null;
        },
        15_000,
        'a good cycle',
      );
    const first = await goodAfter(0);
    expect(await onA.cmd.hget(hh.keys.epochActive, 'SPX')).toBe(first.epochId);

    // The failover: B replicates A, B is promoted, A is demoted to B's replica, the address moves to B.
    await onB.conn.call('REPLICAOF', '127.0.0.1', String(a.port));
    await waitUntil(
      async () => /master_link_status:up/.test(await onB.cmd.info('replication')),
      10_000,
      'B in sync with A',
    );
    await onB.conn.call('REPLICAOF', 'NO', 'ONE');
    await onA.conn.call('REPLICAOF', '127.0.0.1', String(b.port));
    target.port = b.port;
    const failoverAt = Date.now();

    // Within a few seconds a cycle writes to B: its epoch is active there, refreshed after the failover.
    const good = await goodAfter(failoverAt + 1_000);
    await waitUntil(
      async () => {
        const id = await onB.cmd.hget(hh.keys.epochActive, 'SPX');
        const ts = id ? Number(await onB.cmd.hget(hh.keys.epochMeta(id), 'last_refresh_ts')) : 0;
        return ts * 1000 > failoverAt;
      },
      10_000,
      'an epoch refreshed on the new master',
    );
    expect(good.epochId).toBe(first.epochId); // same geometry: the replicated epoch refreshed in place
    // The models follow: built after the failover, on B. (A build that was under way at the failover may
    // have claimed its epoch on A, replicated to B, and been refused the release: the claim runs out first.)
    await waitUntil(
      async () => {
        const raw = await onB.cmd.get(hh.keys.model('gex', 'SPX'));
        const m = raw === null ? null : (JSON.parse(raw) as GexModel);
        return m !== null && m.ts !== null && Date.parse(m.ts) > failoverAt;
      },
      BUILD_LEASE_MS + 10_000,
      'a model written to the new master',
    );
    worker = undefined;
    w.stop();
    expect(await run).toBe(EXIT.ok);
    const hb = JSON.parse((await onB.cmd.get(hh.keys.heartbeat)) as string) as { status: string };
    expect(hb.status).toBe('stopped');
  }, 90_000);
});
