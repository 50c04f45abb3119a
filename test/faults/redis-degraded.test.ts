/**
 * Faults: Redis refusing writes (OOM under `maxmemory … noeviction`, READONLY after `REPLICAOF`), slow Redis
 * (`CLIENT PAUSE … WRITE`) and a dropped pub/sub connection under a running model builder. Each runs on a
 * redis-server this file owns, since these faults act on the whole server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle, type CycleResult } from '../../src/chain-worker/cycle.js';
import { ChainWorker, EXIT } from '../../src/chain-worker/worker.js';
import { ModelBuilder } from '../../src/models/builder.js';
import { ChainLatestStore, type PartWrite } from '../../src/wiring/chain-latest.js';
import type { GexModel } from '../../src/models/types.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import { freePort, type RedisServerProcess } from '../../tools/redis-servers.js';
import {
  assertActiveConsistent,
  counterValue,
  dumpPrefix,
  ownRedis,
  targetOf,
} from '../support/fault-kit.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { readIndex } from '../support/contract-index.js';

/** Meta, index and every substrate of the epoch are present and agree with the cycle's result. */
async function expectEpochKeys(h: Harness, epochId: string, contracts: number): Promise<void> {
  const meta = await h.bus.cmd.hgetall(h.keys.epochMeta(epochId));
  expect(meta).toMatchObject({ symbol: 'SPX', contract_count: String(contracts) });
  const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(epochId));
  expect(ids).toHaveLength(contracts);
  const subs = await h.bus.getMany(ids.map((id) => h.keys.epochContract(epochId, id)));
  expect(subs.filter((s) => s === null)).toHaveLength(0);
  expect(subs.map((s) => (JSON.parse(s as string) as { id: string }).id)).toEqual(ids);
}

function gexEpoch(raw: string | null): string | undefined {
  return raw === null ? undefined : (JSON.parse(raw) as GexModel).epoch_id;
}

describe('Redis degraded', () => {
  let srv: RedisServerProcess | undefined;
  let h: Harness | undefined;
  let worker: ChainWorker | undefined;
  let builder: ModelBuilder | undefined;

  afterEach(async () => {
    worker?.stop();
    await worker?.shutdown().catch(() => undefined);
    worker = undefined;
    await builder?.stop();
    builder = undefined;
    await h?.close();
    h = undefined;
    await srv?.destroy();
    srv = undefined;
  });

  function startWorker(
    hh: Harness,
    b: ModelBuilder,
    id: string,
  ): { worker: ChainWorker; run: Promise<number> } {
    const w = new ChainWorker(
      {
        ...hh.deps,
        systemBus: hh.bus,
        config: { ...hh.config, symbols: ['I:SPX'] },
        onDirty: async () => void (await b.drain()),
      },
      { id },
    );
    worker = w;
    return { worker: w, run: w.run() };
  }

  /** Waits for the worker's next finished cycle after `since` (ms) that satisfies `ok`. */
  function nextCycle(w: ChainWorker, since: number, ok: boolean): Promise<CycleResult> {
    return waitUntil(
      () => {
        const r = w.lastResults.get('I:SPX');
        const at = (w.heartbeat.state.lastCycle.SPX?.ts ?? 0) * 1000; // Unix seconds → ms
        return r && r.ok === ok && at > since ? r : null;
      },
      15_000,
      ok ? 'a good cycle' : 'a failed cycle',
    );
  }

  it("OOM: a part whose ticker set did not change is read, not written (Redis refuses a MULTI's reads too)", async () => {
    srv = await ownRedis({ args: ['--maxmemory-policy', 'noeviction'] });
    h = await startHarness(targetOf(srv), { sim: { contractsPerExpiration: 5 } });
    const store = new ChainLatestStore(h.bus, h.keys);
    const part = (delta: boolean): PartWrite => ({
      underlying: 'SPX',
      summary: '{"u":"SPX"}',
      contracts: null,
      tickers: ['O:SPXW261218C06000000', 'O:SPXW261218P06000000'],
      ts: Date.now() / 1000,
      delta,
    });
    await store.writePart(part(false));
    await store.writePart(part(true));
    const stored = await h.bus.cmd.hgetall(h.keys.latestPart('SPX'));
    await h.bus.conn.call('CONFIG', 'SET', 'maxmemory', '1');
    try {
      await expect(h.bus.cmd.hset(h.keys.latestPart('SPX'), 'x', '1')).rejects.toThrow(/OOM/);
      for (const delta of [false, true]) await store.writePart(part(delta));
    } finally {
      await h.bus.conn.call('CONFIG', 'SET', 'maxmemory', '0');
    }
    expect(await h.bus.cmd.hgetall(h.keys.latestPart('SPX'))).toEqual(stored);
  }, 30_000);

  it('OOM (maxmemory = the normal chain + 1 MB, noeviction) on a burst: the cycle fails and is counted, the worker lives, the prior epoch and model stay, recovery promotes', async () => {
    srv = await ownRedis({ args: ['--maxmemory-policy', 'noeviction'] });
    h = await startHarness(targetOf(srv), {
      sim: { contractsPerExpiration: 20 },
      env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.3' },
    });
    const hh = h;
    builder = new ModelBuilder({ ...hh, owner: 'b-oom' });
    const { worker: w, run } = startWorker(hh, builder, 'w-oom');
    const first = await nextCycle(w, 0, true);
    const e1 = first.epochId as string;
    await waitUntil(
      async () => gexEpoch(await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'))) === e1,
      10_000,
      'model of E1',
    );
    const metaBefore = await hh.bus.cmd.hgetall(hh.keys.epochMeta(e1));
    // A substrate and the index about to expire: the failed cycles must keep the fallback alive (Redis
    // accepts EXPIRE under OOM).
    const ids = await readIndex(hh.bus.cmd, hh.keys.epochContracts(e1));
    const sample = hh.keys.epochContract(e1, ids[0] as string);
    // 20 s: far below their normal TTL, longer than the burst cycle that fails takes to fetch on a loaded
    // machine (with 4 s the index expired before that cycle ended, under load 15).
    await hh.bus.cmd.expire(sample, 20);
    await hh.bus.cmd.expire(hh.keys.epochContracts(e1), 20);
    // The limit: what the normal chain uses now plus 1 MB of headroom for its next cycles; a burst chain
    // (10,000+ contracts, ~1.3 KB each) cannot fit. (A fixed 2 MB stopped fitting the normal chain itself as
    // the simulated session's chain grew, and with each connection the worker opens.)
    const usedNow = Number(/used_memory:(\d+)/.exec(await hh.bus.cmd.info('memory'))?.[1]);
    expect(usedNow).toBeGreaterThan(500_000);
    const limit = usedNow + 1_048_576;
    await hh.bus.conn.call('CONFIG', 'SET', 'maxmemory', String(limit));

    (hh.market as SimMarket).adjust({ burst: true });
    const failed = await nextCycle(w, Date.now(), false);
    expect(failed.error?.message).toMatch(/OOM command not allowed/);
    expect(failed.error?.name).toBe('BulkWriteError');
    const info = await hh.bus.cmd.info('memory');
    expect(Number(/used_memory:(\d+)/.exec(info)?.[1])).toBeGreaterThan(limit - 65_536);
    // The prior epoch is untouched: still active, the same geometry, index and substrates complete, the
    // model still its own. (A cycle of the normal chain in flight when the market turned may have refreshed
    // it in between: the loop runs every 0.3 s. So what a failed cycle must not touch is read after the
    // first failure and compared after the next.)
    expect(await assertActiveConsistent(hh.bus, hh.keys, 'SPX')).toBe(e1);
    const meta = await hh.bus.cmd.hgetall(hh.keys.epochMeta(e1));
    const geometry = ['contract_count', 'expirations', 'geometry_hash', 'prev_epoch'] as const;
    for (const f of geometry) expect(meta[f], f).toBe(metaBefore[f]);
    await expectEpochKeys(hh, e1, first.contracts);
    const model = await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'));
    expect(gexEpoch(model)).toBe(e1);
    await nextCycle(w, Date.now(), false);
    // A failed cycle changed nothing but the failure count: the same meta apart from `dormant_count`
    // (a failed cycle raises it, when Redis, just under its limit again, accepts the HINCRBY; at 3 the
    // status turns dormant), the same model bytes.
    const { dormant_count: failedBefore, status: _s1, ...kept } = meta;
    const { dormant_count: failedAfter, status, ...after } = await hh.bus.cmd.hgetall(hh.keys.epochMeta(e1));
    expect(after).toEqual(kept);
    expect(Number(failedAfter)).toBeGreaterThanOrEqual(Number(failedBefore));
    expect(['active', 'dormant']).toContain(status);
    expect(await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'))).toBe(model);
    expect(await hh.bus.cmd.ttl(sample)).toBeGreaterThan(200);
    expect(await hh.bus.cmd.ttl(hh.keys.epochContracts(e1))).toBeGreaterThan(200);

    // Recovery: memory limit lifted. The next cycle promotes the burst chain; the failed cycles show up.
    await hh.bus.conn.call('CONFIG', 'SET', 'maxmemory', '0');
    const good = await nextCycle(w, Date.now(), true);
    expect(good.promoted).toBe(true);
    expect(good.contracts).toBeGreaterThanOrEqual(10_000);
    await expectEpochKeys(hh, good.epochId as string, good.contracts);
    expect(await hh.bus.cmd.hget(hh.keys.epochMeta(e1), 'status')).toBe('superseded');
    await waitUntil(
      async () => gexEpoch(await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'))) === good.epochId,
      10_000,
      'model of the recovered epoch',
    );
    worker = undefined;
    w.stop();
    expect(await run).toBe(EXIT.ok);
    const failures = await counterValue(hh.metrics.errors, { kind: 'redis' });
    expect(failures).toBeGreaterThanOrEqual(1);
    const analytics = await hh.bus.cmd.hgetall(hh.keys.analytics);
    expect(Number(analytics.failed_cycles)).toBe(failures);
    expect(Number(analytics['errors:redis'])).toBe(failures);
    expect(Number(analytics.snapshots)).toBeGreaterThanOrEqual(2);
    expect(Number(await hh.bus.cmd.hget(hh.keys.fetchHealth, 'failed'))).toBe(failures);
  });

  it('READONLY (REPLICAOF a dead master): cycles fail and are counted, nothing under the prefix changes, REPLICAOF NO ONE recovers', async () => {
    srv = await ownRedis();
    h = await startHarness(targetOf(srv), { env: { MASSIVE_CHAIN_INTERVAL_SEC: '0.2' } });
    const hh = h;
    builder = new ModelBuilder({ ...hh, owner: 'b-ro' });
    const { worker: w, run } = startWorker(hh, builder, 'w-ro');
    const first = await nextCycle(w, 0, true);
    const e1 = first.epochId as string;
    await waitUntil(
      async () => gexEpoch(await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'))) === e1,
      10_000,
      'model of E1',
    );

    // Every command pipelined on the connection answers READONLY: the client drops the connection once,
    // not once per reply (each request added a 'close' listener to the same socket: MaxListenersExceeded).
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    const deadMaster = await freePort();
    await hh.bus.conn.call('REPLICAOF', '127.0.0.1', String(deadMaster));
    // Let any cycle that was mid-flight finish, then take the picture.
    const t0 = Date.now();
    await nextCycle(w, t0, false);
    const before = await dumpPrefix(hh.bus, hh.prefix);
    const since = Date.now();
    const failed = await nextCycle(w, since, false);
    expect(failed.error?.message).toMatch(/READONLY/);
    await nextCycle(w, Date.now(), false);
    const during = await dumpPrefix(hh.bus, hh.prefix);
    expect(during).toEqual(before); // nothing at all was written: prior epoch, model, analytics as they were
    expect(await assertActiveConsistent(hh.bus, hh.keys, 'SPX')).toBe(e1);
    expect(await counterValue(hh.metrics.errors, { kind: 'redis' })).toBeGreaterThanOrEqual(3);
    expect(worker).toBeDefined();

    await hh.bus.conn.call('REPLICAOF', 'NO', 'ONE');
    process.off('warning', onWarning);
    expect(warnings.filter((n) => n === 'MaxListenersExceededWarning')).toEqual([]);
    const good = await nextCycle(w, Date.now(), true);
    expect(good.epochId).toBe(e1); // same geometry: refreshed in place
    await expectEpochKeys(hh, e1, good.contracts);
    worker = undefined;
    w.stop();
    expect(await run).toBe(EXIT.ok);
    const failures = await counterValue(hh.metrics.errors, { kind: 'redis' });
    const analytics = await hh.bus.cmd.hgetall(hh.keys.analytics);
    expect(Number(analytics.failed_cycles)).toBe(failures);
    expect(Number(analytics['errors:redis'])).toBe(failures);
    expect(await hh.bus.cmd.hget(hh.keys.epochMeta(e1), 'status')).toBe('active');
    const hb = JSON.parse((await hh.bus.cmd.get(hh.keys.heartbeat)) as string) as { status: string };
    expect(hb.status).toBe('stopped');
  });

  it('slow Redis (CLIENT PAUSE 800 WRITE) during a cycle: the cycle completes later with every key correct', async () => {
    srv = await ownRedis();
    h = await startHarness(targetOf(srv));
    const first = await runCycle(h.deps, 'I:SPX', '');
    expect(first.ok).toBe(true);
    (h.market as SimMarket).adjust({ contractsPerExpiration: 150 });
    const t0 = performance.now();
    await h.bus.conn.call('CLIENT', 'PAUSE', '800', 'WRITE');
    const res = await runCycle(h.deps, 'I:SPX', '');
    const elapsed = performance.now() - t0;
    expect(res).toMatchObject({ ok: true, promoted: true });
    expect(elapsed).toBeGreaterThanOrEqual(780);
    // The fetch and the reads ran during the pause; the writes waited for it to end.
    expect(res.phases.fetch + res.phases.normalize).toBeLessThan(700);
    expect(res.phases.write + res.phases.promote + res.phases.publish).toBeGreaterThan(
      780 - res.phases.fetch - res.phases.normalize - 50,
    );
    expect(await assertActiveConsistent(h.bus, h.keys, 'SPX')).toBe(res.epochId);
    await expectEpochKeys(h, res.epochId as string, res.contracts);
    expect(await h.bus.cmd.hget(h.keys.epochMeta(first.epochId as string), 'status')).toBe('superseded');
    expect(await h.bus.cmd.sismember(h.keys.epochDirty, res.epochId as string)).toBe(1);
    const latest = (
      JSON.parse((await h.bus.cmd.get(h.keys.latest)) as string) as {
        symbols: Record<string, { epoch_id: string }>;
      }
    ).symbols;
    expect(latest.SPX?.epoch_id).toBe(res.epochId);
    expect(await h.bus.cmd.hgetall(h.keys.analytics)).toMatchObject({ snapshots: '2', cycles: '2' });
  });

  it('dropped pub/sub connection (CLIENT KILL TYPE pubsub): the running builder still builds the next epoch within seconds', async () => {
    srv = await ownRedis();
    h = await startHarness(targetOf(srv));
    const hh = h;
    builder = new ModelBuilder({ ...hh, owner: 'b-pubsub' });
    await builder.start();
    const first = await runCycle(hh.deps, 'I:SPX', '');
    await waitUntil(
      async () => gexEpoch(await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'))) === first.epochId,
      5_000,
      'first model',
    );
    const numsub = async (): Promise<number> =>
      Number(((await hh.bus.conn.call('PUBSUB', 'NUMSUB', hh.keys.dirtyChannel)) as [string, number])[1]);
    expect(await numsub()).toBe(1);

    const killed = (await hh.bus.conn.call('CLIENT', 'KILL', 'TYPE', 'pubsub')) as number;
    expect(killed).toBeGreaterThanOrEqual(1);
    (hh.market as SimMarket).adjust({ contractsPerExpiration: 140 });
    const next = await runCycle(hh.deps, 'I:SPX', ''); // its nudge is published while the subscriber is gone
    expect(next.promoted).toBe(true);
    const t0 = Date.now();
    // Built means: both models name the epoch and it moved from the dirty set to the clean set.
    await waitUntil(
      async () =>
        gexEpoch(await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'))) === next.epochId &&
        (await hh.bus.cmd.sismember(hh.keys.epochClean, next.epochId)) === 1,
      5_000,
      'the next epoch built',
    );
    const catchUpMs = Date.now() - t0;
    console.info(`pub/sub dropped: the next epoch was built ${catchUpMs} ms after its cycle`);
    expect(catchUpMs).toBeLessThan(5_000);
    expect(await hh.bus.cmd.sismember(hh.keys.epochDirty, next.epochId as string)).toBe(0);
    const heat = JSON.parse((await hh.bus.cmd.get(hh.keys.model('heatmap', 'SPX'))) as string) as {
      epoch_id: string;
    };
    expect(heat.epoch_id).toBe(next.epochId);
    // The subscription comes back by itself.
    await waitUntil(async () => (await numsub()) === 1, 5_000, 'the builder to resubscribe');
  });
});
