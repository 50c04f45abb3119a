/**
 * MarketSwarm-compatible outputs, pure parts: GEX sums, diff splitting under the size cap, DTE, the heatmap's
 * strike window (text and bytes paths alike, against our own heatmap).
 */
import { describe, expect, it } from 'vitest';
import { buildHeatmapModel } from '../../src/models/heatmap/index.js';
import { diffTiles, splitDiff } from '../../src/outputs/marketswarm/build.js';
import { marketSwarmGex, marketSwarmGexBytes, strikeKey } from '../../src/outputs/marketswarm/gex.js';
import { substrateColumns, type ColumnSubstrate } from '../../src/models/substrate-columns.js';
import {
  atmIv,
  calendarDays,
  marketSwarmSurface,
  type SurfaceInput,
} from '../../src/outputs/marketswarm/heatmap.js';
import { marketSwarmSurfaceBytes } from '../../src/outputs/marketswarm/tiles.js';
import { membersOfRoots, subscriptionChange } from '../../src/outputs/marketswarm/subscriptions.js';
import { substrate } from '../models/substrate-fixture.js';

/** Wed 2026-01-07 10:00 New York; the SPXW expiration below is 9 calendar days away. */
const AS_OF = Date.UTC(2026, 0, 7, 15, 0);
const EXP = '2026-01-16';

/** An SPXW call and put at each strike, with a mid and an IV. */
function smallChain(strikes: readonly number[]): ReturnType<typeof substrate>[] {
  return strikes.flatMap((k) =>
    (['C', 'P'] as const).map((type) =>
      substrate(
        'SPXW',
        EXP,
        type,
        k,
        { mid: 10 + (type === 'C' ? 6900 - k : k - 6900) / 10, iv: 0.15 },
        AS_OF / 1000,
      ),
    ),
  );
}

/** The surface's tile keys, sorted; the bytes path must give the same keys and count as the text path. */
function surfaceKeys(input: SurfaceInput): string[] {
  const text = Object.keys(marketSwarmSurface(input).tiles).sort();
  const b = marketSwarmSurfaceBytes(input);
  const bytes = Object.keys(JSON.parse(`{${Buffer.from(b.run).toString()}}`) as object).sort();
  expect(bytes).toEqual(text);
  expect(b.tiles).toBe(text.length);
  return text;
}

describe('marketSwarmGex', () => {
  it('gamma·OI·100 per expiration and int(strike); puts positive; shared keys summed; no gamma / OI left out', () => {
    const c = (
      type: 'call' | 'put',
      strike: number,
      gamma: number | null,
      oi: number | null,
      expiration = '2026-01-16',
    ) => ({
      type,
      strike,
      gamma,
      oi,
      expiration,
      root: 'SPXW',
    });
    const { calls, puts } = marketSwarmGex(
      [
        c('call', 6850, 0.002, 1000), // SPXW
        c('call', 6850, 0.001, 500), // SPX on the same third Friday: summed, not overwritten
        c('call', 6852.5, 0.003, 10), // keyed "6852"
        c('put', 6800, -0.004, 100), // a negative vendor gamma still counts positive
        c('put', 6800, 0.004, 0), // OI 0: out
        c('call', 6900, null, 100), // no gamma: out
        c('call', 6900, 0.001, 100, '2026-01-09'),
      ],
      'I:SPX',
      1_764_577_498.123,
      AS_OF,
    );
    expect(calls).toEqual({
      ts: 1_764_577_498.123,
      symbol: 'I:SPX',
      expirations: {
        '2026-01-09': { '6900': 0.001 * 100 * 100 },
        '2026-01-16': { '6850': 0.002 * 1000 * 100 + 0.001 * 500 * 100, '6852': 0.003 * 10 * 100 },
      },
    });
    expect(Object.keys(calls.expirations)).toEqual(['2026-01-09', '2026-01-16']);
    expect(puts.expirations).toEqual({ '2026-01-16': { '6800': 0.004 * 100 * 100 } });
    expect(strikeKey(6852.5)).toBe('6852');
  });

  it('marketSwarmGexBytes writes what JSON.stringify writes of marketSwarmGex (random chains, odd keys)', () => {
    const exps = ['2026-01-16', '2026-01-09', '2026-02-20', '20260116'];
    for (let seed = 0; seed < 300; seed++) {
      let x = seed + 1;
      const rnd = (): number => ((x = (x * 16807) % 2147483647) - 1) / 2147483646;
      const odd = seed % 3 === 0; // negative strikes or an index-like expiration: the objects' path
      const cs = Array.from({ length: 1 + Math.floor(rnd() * 60) }, (): ColumnSubstrate => ({
        expiration: exps[Math.floor(rnd() * (odd ? 4 : 3))] as string,
        root: rnd() < 0.5 ? 'SPX' : 'SPXW',
        type: rnd() < 0.5 ? 'call' : 'put',
        strike: (odd && rnd() < 0.2 ? -1 : 1) * (Math.floor(rnd() * 40) * 5 + (rnd() < 0.3 ? 0.5 : 0)),
        mid: null,
        bid: null,
        ask: null,
        iv: null,
        gamma: rnd() < 0.1 ? null : (rnd() - 0.2) * 0.01,
        oi: rnd() < 0.1 ? null : Math.floor(rnd() * 1000),
      }));
      // Every other chain on the third Friday at 11:00 New York: the AM SPX monthly of 2026-01-16 has settled.
      const asOf = seed % 2 === 0 ? AS_OF : Date.UTC(2026, 0, 16, 16, 0);
      const text = marketSwarmGex(cs, 'I:SPX', 1_764_577_498.123, asOf);
      const bytes = marketSwarmGexBytes(substrateColumns(cs), 'I:SPX', 1_764_577_498.123, asOf);
      expect(Buffer.from(bytes.calls).toString()).toBe(JSON.stringify(text.calls));
      expect(Buffer.from(bytes.puts).toString()).toBe(JSON.stringify(text.puts));
    }
  });
});

describe('marketSwarmGex leaves settled contracts out (as our GEX: yearsToSettlement > 0)', () => {
  // The third Friday 2026-01-16: the AM SPX monthly settles at 09:30 New York (14:30Z), SPXW at 16:00 (21:00Z).
  const contracts: ColumnSubstrate[] = [
    ['SPX', '2026-01-16', 'call', 0.002, 50_000],
    ['SPXW', '2026-01-16', 'call', 0.003, 1_000],
    ['SPX', '2026-01-16', 'put', 0.001, 20_000],
    ['SPXW', '2026-01-23', 'call', 0.004, 100],
  ].map(([root, expiration, type, gamma, oi]) => ({
    ...{ root: root as string, expiration: expiration as string, type: type as 'call' | 'put' },
    ...{ strike: 6900, mid: null, bid: null, ask: null, iv: 0.15, gamma: gamma as number, oi: oi as number },
  }));
  it.each<[string, number, Record<string, Record<string, number>>, Record<string, Record<string, number>>]>([
    [
      'Friday 09:00 New York: both roots live, summed',
      Date.UTC(2026, 0, 16, 14, 0),
      { '2026-01-16': { '6900': 0.002 * 50_000 * 100 + 0.003 * 1_000 * 100 }, '2026-01-23': { '6900': 40 } },
      { '2026-01-16': { '6900': 0.001 * 20_000 * 100 } },
    ],
    [
      'Friday 09:30 New York: the AM monthly settles (at its settlement, out)',
      Date.UTC(2026, 0, 16, 14, 30),
      { '2026-01-16': { '6900': 0.003 * 1_000 * 100 }, '2026-01-23': { '6900': 40 } },
      {},
    ],
    [
      'Friday 11:00 New York: SPXW alone',
      Date.UTC(2026, 0, 16, 16, 0),
      { '2026-01-16': { '6900': 0.003 * 1_000 * 100 }, '2026-01-23': { '6900': 40 } },
      {},
    ],
    [
      'Friday 16:00 New York: the date has settled',
      Date.UTC(2026, 0, 16, 21, 0),
      { '2026-01-23': { '6900': 40 } },
      {},
    ],
  ])('%s', (_, asOf, calls, puts) => {
    const text = marketSwarmGex(contracts, 'I:SPX', 1, asOf);
    expect(text.calls.expirations).toEqual(calls);
    expect(text.puts.expirations).toEqual(puts);
    const bytes = marketSwarmGexBytes(substrateColumns(contracts), 'I:SPX', 1, asOf);
    expect(Buffer.from(bytes.calls).toString()).toBe(JSON.stringify(text.calls));
    expect(Buffer.from(bytes.puts).toString()).toBe(JSON.stringify(text.puts));
  });
});

describe('heatmap diffs', () => {
  it('diffTiles: changed (and new) and removed only', () => {
    const prev = new Map([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
    const next = new Map([
      ['a', '1'],
      ['b', '20'],
      ['d', '4'],
    ]);
    expect(diffTiles(prev, next)).toEqual({
      changed: [
        ['b', '20'],
        ['d', '4'],
      ],
      removed: ['c'],
    });
  });

  it('splitDiff: every message within the cap, versions strictly rising, nothing lost', () => {
    const changed: [string, string][] = [];
    for (let i = 0; i < 500; i++)
      changed.push([`butterfly:0:20:${6000 + i}`, JSON.stringify({ x: 'y'.repeat(100), i })]);
    const removed = Array.from({ length: 300 }, (_, i) => `single:1:0:${i}`);
    const max = 8 * 1024;
    const msgs = splitDiff(
      { changed, removed },
      {
        ts: 1_764_577_498.1,
        symbol: 'I:SPX',
        versionBase: 1_000,
        dtes_available: [0, 1],
        atm_iv: { '0': 0.2 },
      },
      max,
    );
    expect(msgs.length).toBeGreaterThan(5);
    const seen = new Map<string, unknown>();
    const gone: string[] = [];
    msgs.forEach((m, i) => {
      expect(Buffer.byteLength(m)).toBeLessThanOrEqual(max);
      const d = JSON.parse(m) as {
        version: number;
        symbol: string;
        changed: Record<string, unknown>;
        removed: string[];
        dtes_available: number[];
        atm_iv: Record<string, number>;
      };
      expect(d.version).toBe(1_000 + i);
      expect(d).toMatchObject({ symbol: 'I:SPX', dtes_available: [0, 1], atm_iv: { '0': 0.2 } });
      for (const [k, v] of Object.entries(d.changed)) seen.set(k, v);
      gone.push(...d.removed);
    });
    expect(seen.size).toBe(500);
    expect(seen.get('butterfly:0:20:6042')).toEqual({ x: 'y'.repeat(100), i: 42 });
    expect(gone).toEqual(removed);
  });

  it('calendarDays', () => {
    expect(calendarDays('2026-01-07', '2026-01-07')).toBe(0);
    expect(calendarDays('2026-01-07', '2026-01-16')).toBe(9);
    expect(calendarDays('2026-03-07', '2026-03-09')).toBe(2); // across the DST change
  });
});

describe('MarketSwarm heatmap window (as our heatmap: models/heatmap/window.ts)', () => {
  const STRIKES = [6850, 6875, 6900, 6925, 6950];
  it.each<[string, number[], number | null, number, number[], number]>([
    // name, strikes, spot, windowPct, the single tiles' strikes, all tiles (singles, butterflies, verticals)
    ['windowPct 0: every strike', STRIKES, 6901.3, 0, STRIKES, 5 + 3 + 5],
    ['a negative windowPct counts as 0', STRIKES, 6901.3, -1, STRIKES, 13],
    ['a windowPct not finite counts as 0', STRIKES, 6901.3, NaN, STRIKES, 13],
    ['no spot, windowPct 0: every strike (priced from mids)', STRIKES, null, 0, STRIKES, 13],
    ['no spot, windowPct 5: the window cannot be placed, no tiles', STRIKES, null, 5, [], 0],
    ['spot 0 is no spot', STRIKES, 0, 5, [], 0],
    ['0.4 % of 6900: 6872.4 to 6927.6', STRIKES, 6900, 0.4, [6875, 6900, 6925], 3 + 3 + 3],
    // 6800 × 1.025 is 6969.999999999999 in floats: the edge strike 6970 is in (both edges included), with
    // its single, its 20-wide butterfly (6950/6970/6990) and its verticals (6950 call; 6970 call and put)
    [
      'the window edge is in: 2.5 % of 6800 reaches 6970',
      [6950, 6970, 6990],
      6800,
      2.5,
      [6950, 6970],
      2 + 1 + 2,
    ],
  ])('%s', (_, strikes, spot, windowPct, singles, tiles) => {
    const contracts = smallChain(strikes);
    const keys = surfaceKeys({
      contracts,
      symbol: 'I:SPX',
      asOfMs: AS_OF,
      spot,
      widths: [25, 20],
      windowPct,
    });
    const singleStrikes = keys.filter((k) => k.startsWith('single:')).map((k) => Number(k.split(':')[3]));
    expect(singleStrikes.sort((a, b) => a - b)).toEqual(singles);
    expect(keys.length).toBe(tiles);
    // Our own heatmap of the same chain centres the same strikes.
    const ours = buildHeatmapModel({
      symbol: 'SPX',
      epochId: 'e',
      asOf: AS_OF,
      spot,
      contracts,
      ts: AS_OF,
      stale: false,
      widths: [25, 20],
      windowPct,
    });
    expect(Object.keys(ours.expirations[EXP]?.single ?? {}).map(Number)).toEqual(singles);
  });
});

describe('MarketSwarm ATM IV: the IV at the strike nearest spot with a usable one (MIN_IV ≤ iv < 5)', () => {
  it.each<[string, [number, number | null, number | null][], number | null]>([
    // name, [strike, call IV, put IV] (spot 6901), the ATM IV
    [
      'both sides at the nearest strike: averaged',
      [
        [6900, 0.25, 0.5],
        [6925, 0.2, 0.2],
      ],
      0.375,
    ],
    [
      'a failed solve (under 0.001) is no IV: the next strike',
      [
        [6900, 0.0004, null],
        [6925, 0.15, null],
      ],
      0.15,
    ],
    [
      'a failed solve beside a usable side: that side alone',
      [
        [6900, 0.0004, 0.16],
        [6925, 0.2, 0.2],
      ],
      0.16,
    ],
    [
      '0.001 (MIN_IV) itself is usable',
      [
        [6900, 0.001, null],
        [6925, 0.2, null],
      ],
      0.001,
    ],
    [
      '0 and 5 are not',
      [
        [6900, 0, 5],
        [6925, 0.2, null],
      ],
      0.2,
    ],
    [
      'no usable IV anywhere',
      [
        [6900, 0.0009, null],
        [6925, null, 1e-5],
      ],
      null,
    ],
  ])('%s', (_, legs, expected) => {
    const calls = new Map(legs.map(([k, c]) => [k, { mid: 10, iv: c }]));
    const puts = new Map(legs.map(([k, , p]) => [k, { mid: 10, iv: p }]));
    expect(atmIv({ calls, puts }, 6901)).toBe(expected);
    // The surface's atm_iv on both paths (the bytes path has its own search).
    const contracts = legs.flatMap(([k, c, p]) => [
      substrate('SPXW', EXP, 'C', k, { mid: 10, iv: c }, AS_OF / 1000),
      substrate('SPXW', EXP, 'P', k, { mid: 10, iv: p }, AS_OF / 1000),
    ]);
    const input = { contracts, symbol: 'I:SPX', asOfMs: AS_OF, spot: 6901, widths: [25], windowPct: 0 };
    const atm = expected === null ? {} : { '9': expected };
    expect(marketSwarmSurface(input).atm_iv).toEqual(atm);
    expect(marketSwarmSurfaceBytes(input).atm_iv).toEqual(atm);
  });
});

describe('MarketSwarm market figures: mids in whole thousandths, rounded half away from zero (as our tiles)', () => {
  type Field = 'market_debit' | 'market_mid';
  it.each<
    [string, ['C' | 'P', number, number, number][], string, 'call' | 'put', Field, number, number | null]
  >([
    // name, legs [type, strike, bid, ask], tile key, side, field, its value (and the debit or mid without an
    // IV), max_profit without an IV (width − value, rounded the same way)
    [
      'vertical call 2.675 − 2.65 = 0.025 → 0.03 (floats: 0.024999999999999467 → 0.02)',
      [
        ['C', 6900, 2.65, 2.7],
        ['C', 6920, 2.6, 2.7],
      ],
      'vertical:9:20:6900',
      'call',
      'market_debit',
      0.03,
      19.98,
    ],
    [
      'butterfly call 1.85 + 2.125 − 2·2 = −0.025 → −0.03 (floats: −0.02499999999999991 → −0.02)',
      [
        ['C', 6880, 1.8, 1.9],
        ['C', 6900, 1.95, 2.05],
        ['C', 6920, 2.1, 2.15],
      ],
      'butterfly:9:20:6900',
      'call',
      'market_debit',
      -0.03,
      20.03,
    ],
    [
      'vertical put 2.305 − 0.575 = 1.73 (a mid of 2.3049999999999997 is 2.305; floats agree here)',
      [
        ['P', 6900, 2.3, 2.31],
        ['P', 6880, 0.57, 0.58],
      ],
      'vertical:9:20:6900',
      'put',
      'market_debit',
      1.73,
      18.27,
    ],
    [
      'single call, a mid of 1.005 → 1.01 (floats: 1)',
      [['C', 6900, 1, 1.01]],
      'single:9:0:6900',
      'call',
      'market_mid',
      1.01,
      null,
    ],
    [
      'single put, a mid of 0.575 → 0.58 (floats: 0.57)',
      [['P', 6900, 0.57, 0.58]],
      'single:9:0:6900',
      'put',
      'market_mid',
      0.58,
      null,
    ],
  ])('%s', (_, legs, key, side, field, value, maxProfit) => {
    for (const iv of [null, 0.15]) {
      const contracts = legs.map(([type, k, bid, ask]) =>
        substrate('SPXW', EXP, type, k, { bid, ask, iv }, AS_OF / 1000),
      );
      const input = { contracts, symbol: 'I:SPX', asOfMs: AS_OF, spot: 6900, widths: [20], windowPct: 0 };
      type Tiles = Record<string, Record<string, unknown>>;
      const b = marketSwarmSurfaceBytes(input);
      const bytes = JSON.parse(`{${Buffer.from(b.run).toString()}}`) as Tiles;
      for (const tiles of [marketSwarmSurface(input).tiles as unknown as Tiles, bytes]) {
        const t = tiles[key]?.[side] as Record<string, number> | undefined;
        expect(t?.[field]).toBe(value);
        if (iv !== null) continue;
        // Without an IV the figure is also the debit (max_loss) or the mid.
        if (field === 'market_mid') expect(t?.mid).toBe(value);
        else expect([t?.debit, t?.max_loss, t?.max_profit]).toEqual([value, value, maxProfit]);
      }
      // Our heatmap prices the same structure the same.
      const ours = buildHeatmapModel({
        ...{ symbol: 'SPX', epochId: 'e', asOf: AS_OF, spot: 6900, contracts, ts: AS_OF, stale: false },
        ...{ widths: [20], windowPct: 0 },
      }).expirations[EXP];
      const [strategy] = key.split(':');
      const tile =
        strategy === 'single'
          ? ours?.single['6900']?.[side]
          : ours?.[strategy as 'butterfly' | 'vertical'][side]['6900']?.['20'];
      expect(tile?.value).toBe(value);
    }
  });
});

describe('MarketSwarm subscription list (pure parts)', () => {
  it.each([
    { current: [], next: ['a', 'b'], add: ['a', 'b'], remove: [] },
    { current: ['a', 'b'], next: ['b', 'a'], add: [], remove: [] },
    { current: ['a', 'b', 'c'], next: ['c', 'd'], add: ['d'], remove: ['a', 'b'] },
  ])('subscriptionChange $current → $next', (c) => {
    expect(subscriptionChange(c.current, c.next)).toEqual({ add: c.add, remove: c.remove });
  });

  it('membersOfRoots keeps only the tickers of the given roots', () => {
    const members = ['O:SPXW261201C05900000', 'O:SPX261218P06000000', 'O:NDXP261201C25000000', 'junk'];
    expect(membersOfRoots(members, new Set(['SPX', 'SPXW']))).toEqual([
      'O:SPXW261201C05900000',
      'O:SPX261218P06000000',
    ]);
    expect(membersOfRoots(members, new Set(['NDXP']))).toEqual(['O:NDXP261201C25000000']);
    // A member shaped like a ticker of the root but not one (month 13, strike 0, lower case) is not kept.
    const odd = ['O:SPXW261301C05900000', 'O:SPXW261201C00000000', 'O:SPXW261201c05900000', 'O:SPXW', ''];
    expect(membersOfRoots([...odd, ...members], new Set(['SPXW', '']))).toEqual(['O:SPXW261201C05900000']);
  });
});
