/**
 * Model builders end to end (simulated market → cycle → builders → model keys, clean set, channel), each
 * epoch built once across two builders, the atomic flip under a concurrent reader, and analytics series
 * uniqueness and trimming. Single server and cluster.
 */
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { ModelBuilder } from '../../src/models/builder.js';
import type { GexModel, HeatmapModel } from '../../src/models/types.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import { SubstrateHandoff } from '../../src/models/substrate-handoff.js';
import { MarketSwarmOutput } from '../../src/outputs/marketswarm/writer.js';
import type { ModelObserver } from '../../src/outputs/observers.js';
import { AnalyticsWriter } from '../../src/wiring/analytics.js';
import { redisTargets } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { decodeContractIndex } from '../../src/wiring/contract-index.js';

describe.each(redisTargets())('models and epochs on $name', (target) => {
  let h: Harness | undefined;
  const builders: ModelBuilder[] = [];
  afterEach(async () => {
    for (const b of builders.splice(0)) await b.stop();
    await h?.close();
    h = undefined;
  });

  function builder(owner: string): ModelBuilder {
    if (!h) throw new Error('no harness');
    const b = new ModelBuilder({
      bus: h.bus,
      keys: h.keys,
      config: h.config,
      logger: h.logger,
      metrics: h.metrics,
      owner,
    });
    builders.push(b);
    return b;
  }

  it('publishes both models for SPX and NDX, marks epochs clean and announces on massive:models', async () => {
    h = await startHarness(target);
    const sub = h.bus.duplicate();
    const messages: { model: string; symbol: string; epoch_id: string; ts: number; key: string }[] = [];
    sub.on('message', (_c: string, m: string) => messages.push(JSON.parse(m) as (typeof messages)[number]));
    await sub.subscribe(h.keys.modelsChannel);
    const spx = await runCycle(h.deps, 'I:SPX', '');
    const ndx = await runCycle(h.deps, 'I:NDX', '');
    const outcomes = await builder('b1').drain();
    expect(outcomes.map((o) => o.status).sort()).toEqual(['built', 'built']);
    for (const [res, u] of [
      [spx, 'SPX'],
      [ndx, 'NDX'],
    ] as const) {
      const gex = JSON.parse((await h.bus.cmd.get(h.keys.model('gex', u))) as string) as GexModel;
      const heat = JSON.parse((await h.bus.cmd.get(h.keys.model('heatmap', u))) as string) as HeatmapModel;
      expect(gex).toMatchObject({
        version: 2,
        model: 'gex',
        symbol: u,
        epoch_id: res.epochId,
        units: 'usd_per_1pct',
        contract_count: res.contracts,
        stale: false,
      });
      expect(heat).toMatchObject({
        version: 2,
        model: 'heatmap',
        symbol: u,
        epoch_id: res.epochId,
        contract_count: res.contracts,
      });
      expect(gex.profile.length).toBeGreaterThanOrEqual(60);
      expect(Object.keys(gex.by_expiration)).toHaveLength(5);
      expect(heat.widths).toEqual(h.config.widths[u]);
      expect(await h.bus.cmd.sismember(h.keys.epochDirty, res.epochId as string)).toBe(0);
      expect(await h.bus.cmd.sismember(h.keys.epochClean, res.epochId as string)).toBe(1);
    }
    await new Promise((r) => setTimeout(r, 100));
    sub.disconnect();
    expect(messages.map((m) => `${m.model}:${m.symbol}`).sort()).toEqual([
      'gex:NDX',
      'gex:SPX',
      'heatmap:NDX',
      'heatmap:SPX',
    ]);
    expect(messages.find((m) => m.model === 'gex' && m.symbol === 'SPX')).toMatchObject({
      epoch_id: spx.epochId,
      key: h.keys.model('gex', 'SPX'),
    });
  });

  it('two builders build each epoch once; a superseded epoch is dropped, not built', async () => {
    h = await startHarness(target);
    const a = await runCycle(h.deps, 'I:SPX', '');
    const [x, y] = await Promise.all([builder('b1').drain(), builder('b2').drain()]);
    const built = [...x, ...y].filter((o) => o.status === 'built');
    expect(built).toHaveLength(1);
    expect(built[0]?.epochId).toBe(a.epochId);
    // Dirty a superseded epoch by hand: builders drop it without building.
    (h.market as SimMarket).adjust({ contractsPerExpiration: 120 });
    const b = await runCycle(h.deps, 'I:SPX', '');
    await h.bus.cmd.sadd(h.keys.epochDirty, a.epochId as string);
    const outcomes = await builder('b3').drain();
    expect(outcomes.find((o) => o.epochId === a.epochId)?.status).toBe('superseded');
    expect(outcomes.find((o) => o.epochId === b.epochId)?.status).toBe('built');
  });

  it('an epoch superseded while its build runs publishes nothing and is not marked clean', async () => {
    const hh = (h = await startHarness(target));
    const a = await runCycle(hh.deps, 'I:SPX', '');
    // The promotion lands after the build read A's substrates and before it writes A's models: the last
    // step before the writes is waiting for the epoch's announcement.
    const handoff = new SubstrateHandoff();
    let promoted: Awaited<ReturnType<typeof runCycle>> | undefined;
    handoff.announced = async (epochId: string): Promise<void> => {
      if (epochId !== a.epochId || promoted) return;
      (hh.market as SimMarket).adjust({ contractsPerExpiration: 120 });
      promoted = await runCycle(hh.deps, 'I:SPX', '');
      landed();
    };
    // MarketSwarm's outputs, A's columns held until the promotion has landed (its build outlasts it).
    const compat = new MarketSwarmOutput(hh.bus, hh.keys, hh.logger, 100);
    onTestFinished(() => compat.close());
    let landed!: () => void;
    const promotion = new Promise<void>((r) => (landed = r));
    const held: ModelObserver = {
      name: 'marketswarm',
      substratesRead: (e) => {
        if (e.epochId === a.epochId) void promotion.then(() => compat.substratesRead(e));
        else compat.substratesRead(e);
      },
      modelsPublished: () => compat.modelsPublished(),
      idle: async () => {
        await promotion;
        await compat.idle();
      },
    };
    const b = new ModelBuilder({ ...hh, owner: 'racing', handoff, observers: [held] });
    builders.push(b);
    const outcomes = await b.drain();
    // The promotion's epoch is built by this drain or the next (its nudge may come while this one ends).
    outcomes.push(...(await b.drain()));
    await b.idle();
    expect(promoted?.promoted).toBe(true);
    expect(outcomes.find((o) => o.epochId === a.epochId)?.status).toBe('superseded');
    expect(outcomes.find((o) => o.epochId === promoted?.epochId)?.status).toBe('built');
    const gex = JSON.parse((await hh.bus.cmd.get(hh.keys.model('gex', 'SPX'))) as string) as GexModel;
    expect(gex.epoch_id).toBe(promoted?.epochId);
    expect(await hh.bus.cmd.smembers(hh.keys.epochClean)).toEqual([promoted?.epochId]);
    // A's MarketSwarm outputs were built, and not written: B was active by then.
    expect(compat.stats).toMatchObject({ built: 1, superseded: 1, failed: 0 });
  });

  it('a failed build leaves the epoch dirty and the last good model in place', async () => {
    h = await startHarness(target);
    const a = await runCycle(h.deps, 'I:SPX', '');
    await builder('b1').drain();
    const good = await h.bus.cmd.get(h.keys.model('gex', 'SPX'));
    await runCycle(h.deps, 'I:SPX', '');
    // Corrupt the substrate index: the build throws while parsing.
    await h.bus.cmd.set(h.keys.epochContracts(a.epochId as string), '{not json');
    const outcomes = await builder('b2').drain();
    expect(outcomes[0]?.status).toBe('failed');
    expect(await h.bus.cmd.sismember(h.keys.epochDirty, a.epochId as string)).toBe(1);
    expect(await h.bus.cmd.get(h.keys.model('gex', 'SPX'))).toBe(good);
  });

  it('the flip is atomic: a reader never sees epoch:active without its meta and substrates', async () => {
    h = await startHarness(target);
    await runCycle(h.deps, 'I:SPX', '');
    let stop = false;
    let reads = 0;
    const violations: string[] = [];
    const reader = (async () => {
      while (!stop) {
        const id = await h?.bus.cmd.hget(h.keys.epochActive, 'SPX');
        if (!id || !h) continue;
        const [meta, index] = await Promise.all([
          h.bus.cmd.hgetall(h.keys.epochMeta(id)),
          h.bus.cmd.getBuffer(h.keys.epochContracts(id)),
        ]);
        if (!meta.geometry_hash || index === null) {
          violations.push(`${id}: meta=${Boolean(meta.geometry_hash)} index=${index !== null}`);
          continue;
        }
        const ids = await decodeContractIndex(index);
        const sample = ids.slice(0, 5).concat(ids.slice(-5));
        const subs = await h.bus.getMany(sample.map((c) => h?.keys.epochContract(id, c) as string));
        if (subs.some((s) => s === null)) violations.push(`${id}: substrate missing`);
        reads++;
      }
    })();
    for (let i = 0; i < 6; i++) {
      (h.market as SimMarket).adjust({ contractsPerExpiration: 100 + 20 * (i % 3) + i });
      const res = await runCycle(h.deps, 'I:SPX', '');
      expect(res.promoted).toBe(true);
    }
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(10);
    expect(violations).toEqual([]);
  });

  it('a worker that lost its lease cannot flip epoch:active (fencing)', async () => {
    h = await startHarness(target);
    await h.bus.cmd.set(h.keys.workerLease('SPX'), 'other|7', 'PX', 10_000);
    const res = await runCycle(h.deps, 'I:SPX', 'me|3');
    expect(res.ok).toBe(false);
    expect(res.error?.name).toBe('FencedError');
    expect(await h.bus.cmd.hget(h.keys.epochActive, 'SPX')).toBeNull();
    // The meta written for the epoch that was not promoted is retired: it expires.
    const metas: string[] = [];
    const masters = h.bus.isCluster
      ? (h.bus.conn as import('ioredis').Cluster).nodes('master')
      : [h.bus.conn as import('ioredis').Redis];
    for (const node of masters) metas.push(...(await node.keys(`${h.keys.epochMeta('SPX:')}*`)));
    expect(metas).toHaveLength(1);
    expect(await h.bus.cmd.hget(metas[0] as string, 'status')).toBe('superseded');
    const ttl = await h.bus.cmd.ttl(metas[0] as string);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(86_400);
  });

  it('analytics series keep every sample (equal values too) and trim to the retention window', async () => {
    h = await startHarness(target);
    const w = new AnalyticsWriter(h.bus, h.keys, 60);
    const base = {
      underlying: 'SPX',
      health: 'ok' as const,
      latencyMs: 100,
      contracts: 10,
      pages: 1,
      retries: 0,
      skipped: 0,
      stalenessSec: 1,
      strikeRange: 50,
      density: 2,
      burst: false,
      failed: false,
      slaViolation: false,
    };
    const t0 = Date.now();
    await w.record({ ...base, ts: t0 - 120_000 });
    await w.record({ ...base, ts: t0 });
    await w.record({ ...base, ts: t0 });
    const members = await h.bus.cmd.zrangebyscore(
      h.keys.analyticsSeries('fetch_latency'),
      '-inf',
      '+inf',
      'WITHSCORES',
    );
    expect(members.length / 2).toBe(2); // the 2-minute-old sample is trimmed, the two equal ones kept
    expect(Number(members[1])).toBeCloseTo(t0 / 1000, 3); // scores are Unix seconds
    expect(await h.bus.cmd.hget(h.keys.analytics, 'snapshots')).toBe('3');
  });
});
