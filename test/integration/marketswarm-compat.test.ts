/**
 * Contract tests for CHAIN_COMPAT=marketswarm: what we write is read back with MarketSwarm's consumers'
 * rules as shared/compat/marketswarm.md states them (the SSE gateway's key scan, the GEX and heatmap
 * shapes, diffs applied to the document), on a single server and on the cluster.
 */
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { runCycle } from '../../src/chain-worker/cycle.js';
import { yearsToSettlement } from '../../src/domain/market-time.js';
import { ModelBuilder } from '../../src/models/builder.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import type { SimMarket } from '../../src/provider/sim/sim-market.js';
import { MAX_DIFF_BYTES } from '../../src/outputs/marketswarm/build.js';
import { redisTargets } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { startHarness, type Harness } from '../support/worker-harness.js';
import { readIndex } from '../support/contract-index.js';

interface GexSide {
  ts: number;
  symbol: string;
  expirations: Record<string, Record<string, number>>;
}
interface Side {
  debit?: number;
  max_profit?: number;
  max_loss?: number;
  market_debit?: number;
  mid?: number;
  market_mid?: number;
}
interface Tile {
  symbol: string;
  strategy: string;
  dte: number;
  strike: number;
  width: number;
  call?: Side;
  put?: Side;
}
interface HeatmapDoc {
  ts: number;
  symbol: string;
  epoch: string;
  version: number;
  dtes_available: number[];
  dte_tile_counts: Record<string, number>;
  atm_iv: Record<string, number>;
  tiles: Record<string, Tile>;
}
interface Diff {
  ts: number;
  version: number;
  symbol: string;
  changed: Record<string, Tile>;
  removed: string[];
}

/** The gateway's rule (sse.js): symbol = the segments between `model:` and the last; type = the last. */
function gatewayParse(key: string): { symbol: string; type: string } {
  const rest = key.slice(key.indexOf('model:') + 'model:'.length).split(':');
  return { symbol: rest.slice(0, -1).join(':'), type: rest.at(-1) as string };
}

/** Every key matching `pattern` (after the test prefix) on every master: the gateway's `KEYS`. */
async function keysMatching(h: Harness, pattern: string): Promise<string[]> {
  const nodes = h.bus.isCluster
    ? (h.bus.conn as import('ioredis').Cluster).nodes('master')
    : [h.bus.conn as Redis];
  const out: string[] = [];
  for (const n of nodes) out.push(...(await n.keys(`${h.prefix}${pattern}`)));
  return out.map((k) => k.slice(h.prefix.length)).sort();
}

async function substratesOf(h: Harness, epochId: string): Promise<ContractSubstrate[]> {
  const ids = await readIndex(h.bus.cmd, h.keys.epochContracts(epochId));
  const raw = await h.bus.getMany(ids.map((id) => h.keys.epochContract(epochId, id)));
  return raw.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as ContractSubstrate);
}

describe.each(redisTargets())('MarketSwarm-compatible outputs on $name', (target) => {
  let h: Harness | undefined;
  let builder: ModelBuilder | undefined;
  let sub: Redis | undefined;
  afterEach(async () => {
    sub?.disconnect();
    sub = undefined;
    await builder?.stop();
    builder = undefined;
    await h?.close();
    h = undefined;
  });

  it('GEX calls/puts, heatmap latest + diffs + replay, spot: read with the consumers’ rules', async () => {
    h = await startHarness(target, { sim: { contractsPerExpiration: 60 } });
    const hh = h;
    const r = hh.bus.cmd;
    builder = new ModelBuilder({ ...hh, owner: 'b-compat' });
    const spx = await runCycle(hh.deps, 'I:SPX', '');
    const ndx = await runCycle(hh.deps, 'I:NDX', '');
    expect(spx.ok && ndx.ok).toBe(true);
    await builder.drain();

    // The gateway's GEX scan (`KEYS massive:gex:model:*`, symbol and type from the key) finds our two
    // symbols' calls and puts and nothing else: our own models live outside the pattern.
    const scanned = await keysMatching(hh, 'massive:gex:model:*');
    expect(scanned.map(gatewayParse)).toEqual([
      { symbol: 'I:NDX', type: 'calls' },
      { symbol: 'I:NDX', type: 'puts' },
      { symbol: 'I:SPX', type: 'calls' },
      { symbol: 'I:SPX', type: 'puts' },
    ]);
    expect(await r.exists(hh.keys.model('gex', 'SPX'))).toBe(1);

    // The WebSocket hydration list: each symbol's even share of MASSIVE_STREAM_MAX_CONTRACTS (1,000 / 2),
    // nearest expiration first, then strike nearest spot; one symbol's write never removed the other's.
    const subs = await r.smembers(hh.keys.wsSubscriptionList);
    for (const [u, res, roots] of [
      ['SPX', spx, /^O:SPXW?\d/],
      ['NDX', ndx, /^O:NDXP?\d/],
    ] as const) {
      const mine = subs.filter((t) => roots.test(t));
      const ids = await readIndex(r, hh.keys.epochContracts(res.epochId as string));
      expect(mine.length, u).toBe(Math.min(500, ids.length));
      expect(mine.every((t) => ids.includes(t))).toBe(true);
      // Nearest expiration first: no chosen contract expires after one that was left out.
      const expOf = (t: string): string => t.replace(/^O:[A-Z]+(\d{6}).*$/, '$1');
      const left = ids.filter((t) => !mine.includes(t));
      if (left.length > 0) {
        const lastChosen = mine.map(expOf).sort().at(-1) as string;
        expect(left.every((t) => expOf(t) >= lastChosen)).toBe(true);
      }
    }

    for (const [symbol, epochId] of [
      ['I:SPX', spx.epochId],
      ['I:NDX', ndx.epochId],
    ] as const) {
      const subs = await substratesOf(hh, epochId as string);
      // The build's as-of (the epoch's, Unix seconds): contracts settled then are not in the GEX sides.
      const meta = await r.hgetall(hh.keys.epochMeta(epochId as string));
      const asOfMs = Number(meta.as_of ?? meta.last_refresh_ts) * 1000;
      expect(Number.isFinite(asOfMs)).toBe(true);
      // ── GEX: two keys, EX one day, gamma·OI·100 summed per (expiration, int(strike)) of the contracts not
      // settled at the as-of, puts positive ──
      for (const side of ['calls', 'puts'] as const) {
        const key = hh.keys.compatGex(symbol, side);
        expect(gatewayParse(key.slice(hh.prefix.length))).toEqual({ symbol, type: side });
        const ttl = await r.ttl(key);
        expect(ttl).toBeGreaterThan(86_000);
        expect(ttl).toBeLessThanOrEqual(86_400);
        const doc = JSON.parse((await r.get(key)) as string) as GexSide;
        expect(doc.symbol).toBe(symbol);
        expect(Math.abs(doc.ts - Date.now() / 1000)).toBeLessThan(120);
        const dates = Object.keys(doc.expirations);
        expect(dates).toEqual([...dates].sort());
        expect(dates.length).toBeGreaterThan(0);
        const expected = new Map<string, number>();
        for (const c of subs) {
          if (
            (c.type === 'call') !== (side === 'calls') ||
            c.gamma === null ||
            c.gamma === 0 ||
            !(c.oi !== null && c.oi > 0) ||
            !(yearsToSettlement(asOfMs, c.expiration, c.root) > 0)
          )
            continue;
          const k = `${c.expiration}|${Math.trunc(c.strike)}`;
          expected.set(k, (expected.get(k) ?? 0) + c.gamma * c.oi * 100);
        }
        let n = 0;
        for (const [date, byStrike] of Object.entries(doc.expirations)) {
          for (const [strike, v] of Object.entries(byStrike)) {
            expect(strike).toMatch(/^\d+$/);
            expect(v).toBeGreaterThan(0);
            expect(v).toBeCloseTo(expected.get(`${date}|${strike}`) as number, 3);
            n++;
          }
        }
        expect(n).toBe(expected.size);
      }
      // Net as the readers compute it: calls − puts.
      // ── Heatmap document ──
      const key = hh.keys.compatHeatmapLatest(symbol);
      const ttl = await r.ttl(key);
      expect(ttl).toBeGreaterThan(259_000);
      const hm = JSON.parse((await r.get(key)) as string) as HeatmapDoc;
      expect(hm).toMatchObject({ symbol, epoch: 'current' });
      expect(Number.isInteger(hm.version)).toBe(true);
      expect(Math.abs(hm.version - Date.now())).toBeLessThan(120_000);
      expect(hm.dtes_available).toEqual([...hm.dtes_available].sort((a, b) => a - b));
      const keys = Object.keys(hm.tiles);
      expect(keys.length).toBeGreaterThan(50);
      expect(Object.values(hm.dte_tile_counts).reduce((a, b) => a + b, 0)).toBe(keys.length);
      for (const d of hm.dtes_available) expect(hm.atm_iv[String(d)]).toBeGreaterThan(0);
      const today = new Date(hh.market.now()).toLocaleDateString('en-CA', { timeZone: 'America/New_York' });
      const dateOfDte = new Map<number, string>();
      const mids = new Map<string, number>();
      for (const c of subs) {
        dateOfDte.set(Math.round((Date.parse(c.expiration) - Date.parse(today)) / 86_400_000), c.expiration);
        // PM-settled roots (SPXW, NDXP) are the ones the tiles are built on.
        const mid =
          c.mid !== null && c.mid > 0
            ? c.mid
            : c.bid !== null && c.ask !== null && c.bid > 0 && c.ask > 0
              ? (c.bid + c.ask) / 2
              : null;
        if (mid !== null && !['SPX', 'NDX'].includes(c.root))
          mids.set(`${c.expiration}|${c.type}|${c.strike}`, mid);
      }
      let checkedMarket = 0;
      for (const [k, t] of Object.entries(hm.tiles)) {
        const parts = k.split(':');
        expect(parts).toHaveLength(4); // App.tsx splits the key in exactly four
        expect(parts).toEqual([t.strategy, String(t.dte), String(t.width), String(Math.trunc(t.strike))]);
        expect(t.symbol).toBe(symbol);
        for (const side of [t.call, t.put]) {
          if (!side) continue;
          if (t.strategy === 'single') {
            expect(typeof side.mid).toBe('number');
            if ('market_mid' in side) expect(side.market_mid).toBeGreaterThan(0);
          } else {
            expect(side.max_profit).toBeCloseTo(t.width - (side.debit as number), 2);
            expect(side.max_loss).toBe(side.debit);
            if ('market_debit' in side) expect(typeof side.market_debit).toBe('number');
          }
        }
        // An independent market price: the call butterfly from the PM root's mids on the tile's date.
        if (t.strategy === 'butterfly' && t.call?.market_debit !== undefined && checkedMarket < 20) {
          const date = dateOfDte.get(t.dte);
          const m = (dk: number): number | undefined => mids.get(`${date}|call|${t.strike + dk}`);
          const [a, b, c] = [m(-t.width), m(0), m(t.width)];
          if (a !== undefined && b !== undefined && c !== undefined) {
            // Published in cents, a half cent rounded away from zero: within half a cent of the exact value.
            expect(Math.abs(t.call.market_debit - (a - 2 * b + c))).toBeLessThanOrEqual(0.005 + 1e-9);
            checkedMarket++;
          }
        }
      }
      if (symbol === 'I:SPX') expect(checkedMarket).toBeGreaterThan(0); // NDX strikes are too sparse for whole butterflies here
      // ── Spot ──
      const spot = JSON.parse((await r.get(hh.keys.compatSpot(symbol))) as string) as Record<string, unknown>;
      expect(spot).toMatchObject({ symbol, source: 'chain-worker' });
      expect(spot.value).toBeGreaterThan(0);
    }

    // ── Diffs: a geometry change (fewer strikes) goes out as changed + removed, versions strictly rising ──
    const before = JSON.parse((await r.get(hh.keys.compatHeatmapLatest('I:SPX'))) as string) as HeatmapDoc;
    const diffs: Diff[] = [];
    const sizes: number[] = [];
    sub = hh.bus.duplicate() as Redis;
    sub.on('message', (_c: string, m: string) => {
      sizes.push(Buffer.byteLength(m));
      diffs.push(JSON.parse(m) as Diff);
    });
    await sub.subscribe(hh.keys.compatHeatmapDiff('I:SPX'));
    (hh.market as SimMarket).adjust({ contractsPerExpiration: 30 });
    const spx2 = await runCycle(hh.deps, 'I:SPX', '');
    expect(spx2.promoted).toBe(true);
    await builder.drain();
    const after = JSON.parse((await r.get(hh.keys.compatHeatmapLatest('I:SPX'))) as string) as HeatmapDoc;
    await waitUntil(
      () => diffs.at(-1)?.version === after.version,
      5_000,
      'the diffs up to the document version',
    );
    expect(after.version).toBeGreaterThan(before.version);
    let version = before.version;
    const tiles = { ...before.tiles };
    for (const d of diffs) {
      expect(d.version).toBeGreaterThan(version); // the UI drops a diff that is not newer
      version = d.version;
      for (const [k, t] of Object.entries(d.changed)) tiles[k] = t;
      for (const k of d.removed) delete tiles[k];
    }
    for (const s of sizes) expect(s).toBeLessThanOrEqual(MAX_DIFF_BYTES);
    expect(diffs.some((d) => d.removed.length > 0)).toBe(true);
    expect(tiles).toEqual(after.tiles);
    // The replay stream holds the same diffs.
    const replay = await hh.bus.conn.xrange(hh.keys.compatHeatmapReplay('I:SPX'), '-', '+');
    const payloads = replay.map(([, f]) => JSON.parse(f[1] as string) as Diff);
    expect(payloads.slice(-diffs.length).map((p) => p.version)).toEqual(diffs.map((d) => d.version));
    expect(replay[0]?.[1][0]).toBe('payload');
  }, 90_000);

  it('the builder deletes the models published under the old names at start (migration)', async () => {
    h = await startHarness(target, { sim: { contractsPerExpiration: 10 } });
    const r = h.bus.cmd;
    for (const u of ['SPX', 'NDX']) {
      await r.set(h.keys.legacyModel('gex', u), '{"old":true}');
      await r.set(h.keys.legacyModel('heatmap', u), '{"old":true}');
    }
    builder = new ModelBuilder({ ...h, owner: 'b-migrate' });
    await builder.start();
    for (const u of ['SPX', 'NDX'])
      for (const m of ['gex', 'heatmap'] as const) expect(await r.exists(h.keys.legacyModel(m, u))).toBe(0);
    expect(await builder.retireLegacyModelKeys()).toBe(0); // nothing left the second time
  }, 30_000);

  it('CHAIN_COMPAT=none writes none of it', async () => {
    h = await startHarness(target, { sim: { contractsPerExpiration: 20 }, env: { CHAIN_COMPAT: 'none' } });
    builder = new ModelBuilder({ ...h, owner: 'b-none' });
    await runCycle(h.deps, 'I:SPX', '');
    await builder.drain();
    expect(await h.bus.cmd.get(h.keys.model('gex', 'SPX'))).not.toBeNull();
    for (const k of [
      h.keys.compatGex('I:SPX', 'calls'),
      h.keys.compatGex('I:SPX', 'puts'),
      h.keys.compatHeatmapLatest('I:SPX'),
      h.keys.compatSpot('I:SPX'),
    ])
      expect(await h.bus.cmd.exists(k)).toBe(0);
  }, 60_000);
});
