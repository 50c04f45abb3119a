/**
 * The seed's keys after real cycles: names, types, TTLs, counts, the refresh/promote rules and pruning.
 * Runs on a single server and on a 3-master cluster.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import { redisTargets } from '../support/redis.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { readIndex } from '../support/contract-index.js';

describe.each(redisTargets())('Redis wiring on $name', (target) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a first cycle writes every seed key with the right type and TTL', async () => {
    const asOf = Date.parse('2026-01-07T15:00:00Z');
    h = await startHarness(target, { sim: { clock: () => asOf } });
    const { bus, keys } = h;
    const r = bus.cmd;
    const res = await runCycle(h.deps, 'I:SPX', '');
    expect(res).toMatchObject({ ok: true, health: 'ok', promoted: true, underlying: 'SPX' });
    const epochId = res.epochId as string;
    expect(epochId).toMatch(/^SPX:\d{10}:[0-9a-z]{6}$/);

    // epoch:active and meta
    expect(await r.type(keys.epochActive)).toBe('hash');
    expect(await r.hget(keys.epochActive, 'SPX')).toBe(epochId);
    const meta = await r.hgetall(keys.epochMeta(epochId));
    expect(meta).toMatchObject({
      symbol: 'SPX',
      status: 'active',
      dormant_count: '0',
      forced_dirty: '0',
      prev_epoch: '',
    });
    for (const f of [
      'created_ts',
      'geometry_hash',
      'strike_count',
      'expiration_count',
      'contract_count',
      'expirations',
      'last_refresh_ts',
    ]) {
      expect(meta[f], f).toBeTruthy();
    }
    expect(await r.ttl(keys.epochMeta(epochId))).toBe(-1);
    const expirations = JSON.parse(meta.expirations as string) as string[];
    expect(expirations).toHaveLength(5);

    // substrates: one per contract, compact JSON with the documented fields, TTL ≤ 300 and > 0
    const ids = await readIndex(r, keys.epochContracts(epochId));
    expect(ids.length).toBe(Number(meta.contract_count));
    expect(ids.length).toBe(res.contracts);
    const sub = JSON.parse((await r.get(keys.epochContract(epochId, ids[0] as string))) as string) as Record<
      string,
      unknown
    >;
    expect(Object.keys(sub).sort()).toEqual(
      [
        'ask',
        'bid',
        'delta',
        'expiration',
        'gamma',
        'id',
        'iv',
        'last',
        'mid',
        'oi',
        'root',
        'strike',
        'theta',
        'ts',
        'type',
        'underlying',
        'vega',
        'volume',
      ].sort(),
    );
    const values = await bus.getMany(ids.map((id) => keys.epochContract(epochId, id)));
    expect(values.filter((v) => v !== null)).toHaveLength(ids.length);
    const subTtl = await r.ttl(keys.epochContract(epochId, ids[0] as string));
    expect(subTtl).toBeGreaterThan(0);
    expect(subTtl).toBeLessThanOrEqual(300);

    // raw snapshot keys: the vendor JSON exactly as served, seed key form
    const first = ids.find((id) => id.startsWith('O:SPXW')) as string;
    const m = /^O:SPXW(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/.exec(first) as RegExpExecArray;
    const snapKey = `${h.prefix}massive:chain:snapshot:SPX:20${m[1]}${m[2]}${m[3]}:${m[4]}${Number(m[5])}`;
    const raw = await r.get(snapKey);
    expect(raw).not.toBeNull();
    const exp = `20${m[1]}-${m[2]}-${m[3]}`;
    const served = h.market.chain('I:SPX', asOf, exp)?.results.find((c) => c.details?.ticker === first);
    expect(raw).toBe(JSON.stringify(served));
    expect(expirations[0]).toBe('2026-01-07');
    const snapTtl = await r.ttl(snapKey);
    expect(snapTtl).toBeGreaterThan(0);
    expect(snapTtl).toBeLessThanOrEqual(300);

    // dirty, timeline, latest, analytics
    expect(await r.sismember(keys.epochDirty, epochId)).toBe(1);
    expect(await r.lrange(keys.epochTimeline('SPX'), 0, -1)).toEqual([epochId]);
    const latest = (
      JSON.parse((await r.get(keys.latest)) as string) as {
        symbols: Record<string, { epoch_id: string; contract_count: number }>;
      }
    ).symbols;
    expect(latest.SPX).toMatchObject({ epoch_id: epochId, contract_count: res.contracts });
    expect(await r.ttl(keys.latest)).toBe(-1);
    expect(await r.hget(keys.analytics, 'snapshots')).toBe('1');
    expect(await r.hget(keys.symbolCoverage, 'SPX')).toBe('1');
    expect(await r.hget(keys.fetchHealth, 'ok')).toBe('1');
    for (const s of [
      'fetch_latency',
      'contract_count',
      'strike_range',
      'contract_density',
      'staleness',
    ] as const) {
      expect(await r.type(keys.analyticsSeries(s)), s).toBe('zset');
      expect(await r.zcard(keys.analyticsSeries(s)), s).toBe(1);
    }
    const countSample = JSON.parse(
      (await r.zrangebyscore(keys.analyticsSeries('contract_count'), '-inf', '+inf'))[0] as string,
    ) as { v: number };
    expect(countSample.v).toBe(res.contracts);
  });

  it('same geometry refreshes in place; new geometry promotes, retires and prunes', async () => {
    h = await startHarness(target);
    const { bus, keys } = h;
    const r = bus.cmd;
    const a = await runCycle(h.deps, 'I:NDX', '');
    const metaA1 = await r.hgetall(keys.epochMeta(a.epochId as string));
    await new Promise((res) => setTimeout(res, 5));
    const b = await runCycle(h.deps, 'I:NDX', '');
    expect(b).toMatchObject({ ok: true, promoted: false, epochId: a.epochId });
    const metaA2 = await r.hgetall(keys.epochMeta(a.epochId as string));
    expect(Number(metaA2.last_refresh_ts)).toBeGreaterThan(Number(metaA1.last_refresh_ts));
    expect(metaA2.created_ts).toBe(metaA1.created_ts);

    // Fewer strikes: a different geometry.
    (h.market as SimMarket).adjust({ contractsPerExpiration: 100 });
    const oldIds = await readIndex(r, keys.epochContracts(a.epochId as string));
    const c = await runCycle(h.deps, 'I:NDX', '');
    expect(c).toMatchObject({ ok: true, promoted: true });
    expect(c.epochId).not.toBe(a.epochId);
    expect(await r.hget(keys.epochActive, 'NDX')).toBe(c.epochId);
    const old = await r.hgetall(keys.epochMeta(a.epochId as string));
    expect(old.status).toBe('superseded');
    const oldTtl = await r.ttl(keys.epochMeta(a.epochId as string));
    expect(oldTtl).toBeGreaterThan(86_000);
    expect(oldTtl).toBeLessThanOrEqual(86_400);
    expect(await r.sismember(keys.epochDirty, a.epochId as string)).toBe(0);
    expect((await r.hgetall(keys.epochMeta(c.epochId as string))).prev_epoch).toBe(a.epochId);
    expect(await r.lrange(keys.epochTimeline('NDX'), 0, -1)).toEqual([a.epochId, c.epochId]);

    // Snapshot keys of contracts that left the chain are deleted; the kept ones remain.
    const newIds = new Set(await readIndex(r, keys.epochContracts(c.epochId as string)));
    const gone = oldIds.filter((id) => !newIds.has(id));
    expect(gone.length).toBeGreaterThan(0);
    const snap = (id: string): string => {
      const m = /^O:([A-Z]+)(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/.exec(id) as RegExpExecArray;
      const base = `${h?.prefix ?? ''}massive:chain:snapshot:NDX:20${m[2]}${m[3]}${m[4]}:${m[5]}${Number(m[6])}`;
      return m[1] === 'NDX' ? `${base}:NDX` : base;
    };
    const goneValues = await bus.getMany(gone.map(snap));
    expect(goneValues.every((v) => v === null)).toBe(true);
    const kept = [...newIds].slice(0, 20);
    expect((await bus.getMany(kept.map(snap))).every((v) => v !== null)).toBe(true);
  });

  it('writing one symbol never erases another in massive:chain:latest', async () => {
    h = await startHarness(target);
    await runCycle(h.deps, 'I:SPX', '');
    await runCycle(h.deps, 'I:NDX', '');
    await runCycle(h.deps, 'I:SPX', '');
    const latest = JSON.parse((await h.bus.cmd.get(h.keys.latest)) as string) as {
      symbols: Record<string, unknown>;
    };
    expect(Object.keys(latest.symbols).sort()).toEqual(['NDX', 'SPX']);
  });
});
