/**
 * Redis Cluster under live change, on a cluster of its own (3 masters, one replica each): slots holding a
 * symbol's substrates are resharded under a running standalone builder and a `serve`, and a master is
 * killed. The builder must publish a fresh model within seconds and `serve` must keep answering 200.
 * Skipped with TEST_NO_CLUSTER=1 (it starts six redis-servers).
 */
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { silentLogger } from '../../src/lib/logger.js';
import { ModelBuilder } from '../../src/models/builder.js';
import type { RedisBus } from '../../src/redis/bus.js';
import { Metrics } from '../../src/serving/metrics.js';
import { startHttpServer, type HttpServer } from '../../src/serving/server.js';
import { viewsAgree } from '../../tools/cluster-topology.js';
import { RedisClusterProcess, type ClusterNodeInfo } from '../../tools/redis-servers.js';
import { openBus, type RedisTarget } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';

const NO_CLUSTER = process.env.TEST_NO_CLUSTER === '1';

interface ModelHead {
  epoch_id: string;
  ts: string;
  as_of: string;
}

describe.skipIf(NO_CLUSTER)('Redis Cluster under live change', () => {
  const cluster = new RedisClusterProcess();
  let target: RedisTarget;
  let h: Harness;
  /** The standalone builder's and the server's own connections (separate processes in production). */
  let builderBus: RedisBus;
  let serveBus: RedisBus;
  let builder: ModelBuilder;
  let server: HttpServer;
  /** Every node's view of the cluster the moment `start` returned. */
  let viewsAtStart: ClusterNodeInfo[][];

  beforeAll(async () => {
    await cluster.start({ masters: 3, replicas: 1 });
    viewsAtStart = await cluster.views();
    target = { name: 'cluster', url: cluster.url, cluster: true };
    h = await startHarness(target, { env: { MASSIVE_CHAIN_SYMBOLS: 'I:SPX' } });
    builderBus = await openBus(target);
    serveBus = await openBus(target);
    builder = new ModelBuilder({
      bus: builderBus,
      keys: h.keys,
      config: h.config,
      logger: silentLogger(),
      metrics: new Metrics({ defaults: false }),
      owner: 'standalone-builder',
    });
    server = await startHttpServer(
      {
        bus: serveBus,
        keys: h.keys,
        config: h.config,
        logger: silentLogger(),
        metrics: new Metrics({ defaults: false }),
        mode: 'serve',
      },
      { host: '127.0.0.1', port: 0 },
    );
    await builder.start();
  }, 90_000);

  afterAll(async () => {
    await server?.close();
    await builder?.stop();
    await builderBus?.close();
    await serveBus?.close();
    await h?.close().catch(() => undefined);
    await cluster.destroy();
  }, 60_000);

  async function cycle(): Promise<string> {
    const res = await runCycle(h.deps, 'I:SPX', '');
    if (!res.ok) throw new Error(`cycle failed: ${res.error?.message ?? ''}`);
    return res.epochId as string;
  }

  async function modelHead(): Promise<ModelHead | null> {
    const raw = await h.bus.cmd.get(h.keys.model('gex', 'SPX'));
    return raw ? (JSON.parse(raw) as ModelHead) : null;
  }

  /** Waits for a model built from a refresh at or after `afterMs`; returns how long it took from `fromMs`. */
  async function freshModelWithin(afterMs: number, fromMs: number, timeoutMs: number): Promise<number> {
    await waitUntil(
      async () => {
        const m = await modelHead();
        return m !== null && Date.parse(m.ts) >= afterMs;
      },
      timeoutMs,
      'a fresh model',
      20,
    );
    return Date.now() - fromMs;
  }

  /**
   * The slots of the epoch's substrates only (not of the keys a builder reads one at a time: meta, index,
   * epoch sets, build lease, models: a single-key MOVED refreshes the client's slot map and would hide the
   * defect), and the master that holds the fewest of them.
   */
  async function substrateSlots(epochId: string): Promise<{ slots: number[]; to: ClusterNodeInfo }> {
    const k = h.keys;
    const ids = (await h.deps.epochs.contractIds(epochId)) ?? [];
    const slots = new Set(ids.map((id) => calculateSlot(k.epochContract(epochId, id))));
    const single = [
      k.epochMeta(epochId),
      k.epochContracts(epochId),
      k.epochActive,
      k.epochDirty,
      k.epochClean,
      k.buildLease(epochId),
      k.model('gex', 'SPX'),
      k.model('heatmap', 'SPX'),
    ];
    for (const key of single) slots.delete(calculateSlot(key));
    const masters = (await cluster.topology()).filter((n) => n.role === 'master' && !n.failed);
    const count = (m: ClusterNodeInfo): number => m.slots.filter((s) => slots.has(s)).length;
    const to = masters.sort((a, b) => count(a) - count(b))[0] as ClusterNodeInfo;
    return { slots: [...slots].filter((s) => !to.slots.includes(s)), to };
  }

  // A defect found in CI: `start` returned on `cluster_state:ok` while some nodes still listed a would-be
  // replica as a slotless master; the reshard below picked it as the target (SETSLOT: only with masters).
  it('start returns once all six nodes agree: three masters with every slot, three replicas', () => {
    expect(viewsAtStart).toHaveLength(6);
    expect(viewsAgree(viewsAtStart, 3)).toBe(true);
    for (const view of viewsAtStart) {
      const masters = view.filter((n) => n.role === 'master');
      expect(masters).toHaveLength(3);
      expect(masters.reduce((sum, m) => sum + m.slots.length, 0)).toBe(16_384);
    }
  });

  it('a standalone builder and serve survive a live reshard of the substrates', async () => {
    const epochId = await cycle();
    await freshModelWithin(0, Date.now(), 10_000);

    // `serve` reads throughout: every answer must be 200 with the stored document.
    const statuses: number[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const res = await fetch(`${server.url}/api/models/gex/SPX`);
        await res.arrayBuffer();
        statuses.push(res.status);
        const sym = await fetch(`${server.url}/api/symbols`);
        await sym.arrayBuffer();
        statuses.push(sym.status);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // The worker keeps refreshing the epoch while slots move (its substrates go to MIGRATING slots: ASK).
    let cycling = true;
    const cycler = (async () => {
      while (cycling) {
        await cycle().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      const { slots, to } = await substrateSlots(epochId);
      expect(slots.length).toBeGreaterThan(100);
      const t0 = Date.now();
      await cluster.migrateSlots(slots, to);
      const reshardMs = Date.now() - t0;
      expect((await cluster.topology()).find((n) => n.id === to.id)?.slots).toEqual(
        expect.arrayContaining(slots),
      );
      // After the reshard: one more refresh, then a model built from it within a few seconds.
      cycling = false;
      await cycler;
      const tCycle = Date.now();
      expect(await cycle()).toBe(epochId);
      const recoveryMs = await freshModelWithin(tCycle, tCycle, 3_000);
      console.log(
        `live reshard: ${slots.length} slots in ${reshardMs} ms; fresh model ${recoveryMs} ms after the next refresh`,
      );
    } finally {
      cycling = false;
      reading = false;
      await cycler;
      await reader;
    }
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  }, 120_000);

  /** Cycles every 200 ms in the background until stopped; returns the stopper. */
  function keepCycling(): () => Promise<void> {
    let on = true;
    const loop = (async () => {
      while (on) {
        await cycle().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    return async () => {
      on = false;
      await loop;
    };
  }

  it('a manual CLUSTER FAILOVER: the builder keeps publishing', async () => {
    const activeSlot = calculateSlot(h.keys.epochActive);
    const master = await cluster.ownerOf(activeSlot);
    const replica = (await cluster.topology()).find((n) => n.masterId === master.id);
    expect(replica).toBeDefined();
    const stop = keepCycling();
    try {
      const t0 = Date.now();
      await cluster.manualFailover(replica as ClusterNodeInfo);
      await waitUntil(
        async () => (await cluster.ownerOf(activeSlot)).id === replica?.id,
        15_000,
        'promotion',
      );
      const ms = await freshModelWithin(t0, t0, 15_000);
      console.log(`manual CLUSTER FAILOVER: fresh model ${ms} ms after the command`);
    } finally {
      await stop();
    }
  }, 60_000);

  it('a master added and given substrate slots: the builder and serve follow it', async () => {
    const epochId = await cycle();
    const stop = keepCycling();
    let statuses: number[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const res = await fetch(`${server.url}/api/models/gex/SPX`);
        await res.arrayBuffer();
        statuses.push(res.status);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      const t0 = Date.now();
      const added = await cluster.addMaster();
      const joinMs = Date.now() - t0;
      const { slots } = await substrateSlots(epochId);
      const moving = slots.slice(0, 300);
      const t1 = Date.now();
      await cluster.migrateSlots(moving, added);
      const moveMs = Date.now() - t1;
      expect((await cluster.ownerOf(moving[0] as number)).id).toBe(added.id);
      await stop();
      const tCycle = Date.now();
      expect(await cycle()).toBe(epochId);
      const ms = await freshModelWithin(tCycle, tCycle, 5_000);
      console.log(
        `add a master: joined in ${joinMs} ms; ${moving.length} slots moved to it in ${moveMs} ms; fresh model ${ms} ms after the next refresh`,
      );
    } finally {
      await stop();
      reading = false;
      await reader;
    }
    expect(statuses.length).toBeGreaterThan(5);
    statuses = statuses.filter((s) => s !== 200);
    expect(statuses).toEqual([]);
  }, 120_000);

  it('kill -9 of the master holding epoch:active: a replica is promoted and models resume', async () => {
    const activeSlot = calculateSlot(h.keys.epochActive);
    const master = await cluster.ownerOf(activeSlot);
    const stop = keepCycling();
    try {
      const t0 = Date.now();
      await cluster.processOf(master).stop();
      await waitUntil(
        async () => (await cluster.ownerOf(activeSlot)).id !== master.id,
        20_000,
        'a replica promoted',
        100,
      );
      const promotedMs = Date.now() - t0;
      const ms = await freshModelWithin(t0, t0, 20_000);
      console.log(
        `master kill -9: replica promoted after ${promotedMs} ms; fresh model ${ms} ms after the kill`,
      );
      expect(ms).toBeLessThan(15_000);
      // serve answers through it.
      const res = await fetch(`${server.url}/api/models/gex/SPX`);
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-model-stale')).toBe('false');
    } finally {
      await stop();
    }
  }, 60_000);
});
