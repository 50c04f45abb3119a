/**
 * MarketSwarm's heatmap written as bytes (the compat thread's path) is byte for byte what the text path
 * (heatmap.ts + splitDiff, the readable statement of the rules) writes: the document, every diff message,
 * the versions and counts; on the burst chain (first build, then a build a few seconds later) and on a
 * small chain with half strikes sharing a key and missing mids. Prices in cents print as JavaScript does.
 */
import { describe, expect, it } from 'vitest';
import { BENCH_WIDTHS, simSubstrates } from '../../bench/sim-chain.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { ByteWriter } from '../../src/outputs/marketswarm/bytes.js';
import {
  buildMarketSwarmOutputs,
  buildMarketSwarmOutputsFast,
  MAX_DIFF_BYTES,
  resetCompatState,
  type CompatResponse,
} from '../../src/outputs/marketswarm/build.js';
import { marketSwarmSurfaceBytes } from '../../src/outputs/marketswarm/tiles.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';
import { substrate } from '../models/substrate-fixture.js';

const AS_OF = Date.UTC(2026, 0, 7, 15, 0);
const text = (u: Uint8Array | null): string | null => (u ? Buffer.from(u).toString() : null);

function same(a: CompatResponse, b: CompatResponse): void {
  expect(text(b.gexCalls)).toBe(text(a.gexCalls));
  expect(text(b.gexPuts)).toBe(text(a.gexPuts));
  expect(b.version).toBe(a.version);
  expect(b.changed).toBe(a.changed);
  expect(b.removed).toBe(a.removed);
  expect(b.tiles).toBe(a.tiles);
  expect(b.diffs.map(text)).toEqual(a.diffs.map(text));
  expect(text(b.heatmap)).toBe(text(a.heatmap));
  // Each at the start of a buffer of its own (the thread transfers them): exactly its size (the GEX sides)
  // or the compat pool's new buffer for it, an eighth to spare (the document and the diffs, written in
  // place: a copy would be exactly its size).
  const buffers = [b.gexCalls, b.gexPuts, b.heatmap, ...b.diffs].filter((x) => x !== null);
  expect(new Set(buffers.map((x) => x.buffer)).size).toBe(buffers.length);
  for (const x of [b.gexCalls, b.gexPuts]) expect([x.byteOffset, x.buffer.byteLength]).toEqual([0, x.length]);
  for (const x of [b.heatmap, ...b.diffs].filter((y) => y !== null))
    expect([x.byteOffset, x.buffer.byteLength]).toEqual([0, x.length + (x.length >> 3)]);
}

describe('MarketSwarm heatmap as bytes', () => {
  it('cents print as String(Math.round(x * 100) / 100)', () => {
    const xs = [
      0,
      -0,
      -0.001,
      0.004,
      0.005,
      0.07,
      0.1,
      1,
      12.3,
      12.345,
      -12.345,
      99.995,
      6850,
      -0.5,
      1e9 + 0.01,
    ];
    for (let i = 0; i < 2000; i++) xs.push((Math.random() - 0.3) * 10 ** Math.floor(Math.random() * 6));
    for (const x of xs) {
      const w = new ByteWriter(4);
      w.cents(x);
      expect(Buffer.from(w.written()).toString(), String(x)).toBe(String(Math.round(x * 100) / 100));
    }
  });

  it("the burst chain: the first build and the next two (the third writes its run into the first one's buffer), the same bytes as the text path", () => {
    resetCompatState();
    for (const u of ['SPX', 'NDX']) {
      const builds = [AS_OF, AS_OF + 8_000, AS_OF + 16_000].map((t) => ({
        t,
        ...simSubstrates(new SimMarket({ clock: () => t, burst: true }), u, t),
      }));
      let version = 1_000;
      for (const b of builds) {
        const input = {
          asOfMs: b.t,
          spot: b.spot,
          widths: BENCH_WIDTHS[u] ?? [5],
          windowPct: 5,
          tsSec: b.t / 1000,
        };
        const req = { symbol: `I:${u}`, versionBase: version, maxDiffBytes: 200_000 };
        const a = buildMarketSwarmOutputs(b.contracts, input, req);
        const f = buildMarketSwarmOutputsFast(b.contracts, input, req);
        same(a, f);
        expect(f.tiles).toBeGreaterThan(5_000);
        expect(f.diffs.length).toBeGreaterThan(1);
        version = (f.version ?? version) + 1;
      }
    }
  });

  it("by default a diff message is at most 128 KiB (a Redis stream entry that size is not fresh memory): the burst chain's first build", () => {
    resetCompatState();
    const t = AS_OF;
    const { contracts, spot } = simSubstrates(new SimMarket({ clock: () => t, burst: true }), 'SPX', t);
    const input = { asOfMs: t, spot, widths: BENCH_WIDTHS.SPX ?? [5], windowPct: 5, tsSec: t / 1000 };
    const f = buildMarketSwarmOutputsFast(contracts, input, { symbol: 'I:SPX', versionBase: 1_000 });
    expect(MAX_DIFF_BYTES).toBe(128 * 1024);
    const sizes = f.diffs.map((d) => d.length);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(1024 * 1024); // a first build sends every tile
    for (const n of sizes) expect(n).toBeLessThanOrEqual(MAX_DIFF_BYTES);
    // Filled, not split needlessly: every message but the last more than half full.
    for (const n of sizes.slice(0, -1)) expect(n).toBeGreaterThan(MAX_DIFF_BYTES / 2);
    // Versions: one per message, strictly rising, the last the document's.
    const versions = f.diffs.map(
      (d) => (JSON.parse(Buffer.from(d).toString()) as { version: number }).version,
    );
    expect(versions).toEqual(versions.map((_, i) => 1_000 + i));
    expect(f.version).toBe(versions.at(-1));
  });

  it.each([16, 1 << 20, 4 << 20])(
    'the tiles are the same bytes whatever the writer starts with (%s B)',
    (cap) => {
      const t = AS_OF;
      const { contracts, spot } = simSubstrates(new SimMarket({ clock: () => t, burst: true }), 'NDX', t);
      const input = {
        contracts,
        symbol: 'I:NDX',
        asOfMs: t,
        spot,
        widths: BENCH_WIDTHS.NDX ?? [5],
        windowPct: 5,
      };
      const a = marketSwarmSurfaceBytes(input);
      const b = marketSwarmSurfaceBytes(input, cap);
      expect(Buffer.from(b.run).equals(Buffer.from(a.run))).toBe(true);
      expect([[...b.key], [...b.start], [...b.value], [...b.end]]).toEqual([
        [...a.key],
        [...a.start],
        [...a.value],
        [...a.end],
      ]);
    },
  );

  it('a small chain: tiles appear, change, disappear; no-change builds publish nothing', () => {
    resetCompatState();
    const c = (
      type: 'C' | 'P',
      strike: number,
      mid: number | null,
      iv: number | null = 0.2,
    ): ContractSubstrate =>
      substrate('SPXW', '2026-01-16', type, strike, { mid, iv, bid: mid === null ? 1 : null }, AS_OF);
    const chain = [6800, 6825, 6850, 6875, 6900].flatMap((k, i) => [
      c('C', k, 60 - i * 10),
      c('P', k, 10 + i * 9),
    ]);
    const input = { asOfMs: AS_OF, spot: 6850, widths: [25, 50], windowPct: 5, tsSec: AS_OF / 1000 };
    const steps: ContractSubstrate[][] = [
      chain,
      chain, // unchanged: nothing to publish
      chain.map((x) => (x.strike === 6850 && x.type === 'call' ? { ...x, mid: 41.3 } : x)),
      chain.filter((x) => x.strike !== 6900), // tiles removed
      [...chain, c('C', 6852.5, 38), c('P', 6852.5, 33, null)], // a half strike (keyed 6852)
      chain.map((x) => ({ ...x, mid: null, iv: null })), // no mids, no IV: sides without prices left out
    ];
    let v = 1;
    for (const [n, s] of steps.entries()) {
      const a = buildMarketSwarmOutputs(s, input, { symbol: 'I:SPX', versionBase: v, maxDiffBytes: 2_000 });
      const f = buildMarketSwarmOutputsFast(s, input, {
        symbol: 'I:SPX',
        versionBase: v,
        maxDiffBytes: 2_000,
      });
      same(a, f);
      if (n === 1) expect([f.heatmap, f.diffs.length, f.changed, f.removed]).toEqual([null, 0, 0, 0]);
      v = (f.version ?? v) + 1;
    }
  });

  it.each<[string, number | null, number]>([
    ['every strike (windowPct 0)', 6850, 0],
    ['no spot, windowPct 0: every strike from mids', null, 0],
    ['no spot, windowPct 5: no tiles', null, 5],
    ['a window edge on a strike (2.5 % of 6800 = 6970 in floats 6969.999999999999)', 6800, 2.5],
  ])('the window: %s, the same bytes as the text path', (_, spot, windowPct) => {
    resetCompatState();
    const chain = [6800, 6825, 6850, 6875, 6900, 6925, 6950, 6970, 6990].flatMap((k, i) => [
      substrate('SPXW', '2026-01-16', 'C', k, { mid: 60 - i * 5, iv: 0.2 }, AS_OF),
      substrate('SPXW', '2026-01-16', 'P', k, { mid: 10 + i * 5, iv: 0.2 }, AS_OF),
    ]);
    const input = { asOfMs: AS_OF, spot, widths: [20, 25], windowPct, tsSec: AS_OF / 1000 };
    const req = { symbol: 'I:SPX', versionBase: 1, maxDiffBytes: 2_000 };
    const a = buildMarketSwarmOutputs(chain, input, req);
    resetCompatState();
    const f = buildMarketSwarmOutputsFast(chain, input, req);
    same(a, f);
    expect(f.tiles).toBe(spot === null && windowPct > 0 ? 0 : a.tiles);
  });

  it('diffs across builds with repeated keys, a repeated width, reordered widths and removals: as the text path', () => {
    resetCompatState();
    const c = (type: 'C' | 'P', strike: number, mid: number | null, exp = '2026-01-16'): ContractSubstrate =>
      substrate('SPXW', exp, type, strike, { mid, iv: 0.2, bid: mid === null ? 1 : null }, AS_OF);
    const strikes = [6800, 6825, 6850, 6875, 6900];
    const chain = (shift: number, extra: number[] = []): ContractSubstrate[] =>
      [...strikes, ...extra].flatMap((k, i) =>
        ['2026-01-09', '2026-01-16'].flatMap((exp) => [
          c('C', k, 60 - i * 10 + shift, exp),
          c('P', k, 10 + i * 9 - shift, exp),
        ]),
      );
    const steps: { contracts: ContractSubstrate[]; widths: number[] }[] = [
      { contracts: chain(0), widths: [25, 50] },
      { contracts: chain(0.5), widths: [25, 50] }, // both numbered in order: walked side by side
      { contracts: chain(0.5, [6850.5]), widths: [25, 50] }, // a repeated key: matched by text
      { contracts: chain(1, [6850.5]), widths: [25, 50] },
      { contracts: chain(1), widths: [25, 50] }, // back in order, 6850.5 gone
      { contracts: chain(1.5), widths: [50, 25] }, // reordered widths: numbers out of order
      { contracts: chain(2), widths: [25, 25, 50] }, // a repeated width: its key twice per strike
      { contracts: chain(2).filter((x) => x.expiration !== '2026-01-09'), widths: [25, 50] },
      { contracts: [], widths: [25, 50] }, // everything removed
    ];
    let v = 1;
    for (const { contracts, widths } of steps) {
      const input = { asOfMs: AS_OF, spot: 6850, widths, windowPct: 5, tsSec: AS_OF / 1000 };
      const req = { symbol: 'I:SPX', versionBase: v, maxDiffBytes: 3_000 };
      const a = buildMarketSwarmOutputs(contracts, input, req);
      const f = buildMarketSwarmOutputsFast(contracts, input, req);
      const repeated = contracts.some((x) => x.strike === 6850.5) || widths.length !== new Set(widths).size;
      if (!repeated) same(a, f);
      else {
        // A repeated key: the text path keeps the key where it first came, the bytes hold the later
        // member's place (JSON readers see no difference); both count it once. The same tiles, counts,
        // changed and removed keys.
        expect([f.version, f.changed, f.removed, f.tiles]).toEqual([
          a.version,
          a.changed,
          a.removed,
          a.tiles,
        ]);
        type Doc = { tiles: Record<string, unknown> };
        expect((JSON.parse(text(f.heatmap) as string) as Doc).tiles).toEqual(
          (JSON.parse(text(a.heatmap) as string) as Doc).tiles,
        );
        type Diff = { changed: Record<string, unknown>; removed: string[] };
        const merged = (r: CompatResponse): [Record<string, unknown>, string[]] => {
          const ds = r.diffs.map((d) => JSON.parse(text(d) as string) as Diff);
          return [
            Object.assign({}, ...ds.map((d) => d.changed)) as Record<string, unknown>,
            ds.flatMap((d) => d.removed).sort(),
          ];
        };
        expect(merged(f)).toEqual(merged(a));
        const counts = (JSON.parse(text(f.heatmap) as string) as { dte_tile_counts: Record<string, number> })
          .dte_tile_counts;
        expect(Object.values(counts).reduce((x, y) => x + y, 0)).toBe(f.tiles);
        expect(counts).toEqual(
          (JSON.parse(text(a.heatmap) as string) as { dte_tile_counts: Record<string, number> })
            .dte_tile_counts,
        );
      }
      v = (f.version ?? v) + 1;
    }
  });

  it('two strikes sharing a key (6850 and 6850.5): the later tile, once, counted once', () => {
    resetCompatState();
    const c = (type: 'C' | 'P', strike: number, mid: number): ContractSubstrate =>
      substrate('SPXW', '2026-01-16', type, strike, { mid, iv: 0.2 }, AS_OF);
    const chain = [6800, 6850, 6850.5, 6900].flatMap((k, i) => [
      c('C', k, 60 - i * 10),
      c('P', k, 10 + i * 9),
    ]);
    const input = { asOfMs: AS_OF, spot: 6850, widths: [50], windowPct: 5, tsSec: AS_OF / 1000 };
    const f = buildMarketSwarmOutputsFast(chain, input, { symbol: 'I:SPX', versionBase: 1 });
    const doc = JSON.parse(text(f.heatmap) as string) as {
      dte_tile_counts: Record<string, number>;
      tiles: Record<string, { strike: number }>;
    };
    const keys = Object.keys(doc.tiles);
    // The document skips the earlier member of the repeated key: sized for the live ones only (the pool's
    // buffer for exactly that size, written in place, not a copy of a larger one).
    const len = f.heatmap?.length ?? 0;
    expect(f.heatmap?.buffer.byteLength).toBe(len + (len >> 3));
    expect(doc.tiles['single:9:0:6850']?.strike).toBe(6850.5);
    expect(doc.dte_tile_counts).toEqual({ '9': keys.length });
    expect(f.tiles).toBe(keys.length);
    const diff = JSON.parse(text(f.diffs[0] ?? null) as string) as { changed: Record<string, unknown> };
    expect(Object.keys(diff.changed).sort()).toEqual(keys.sort());
  });
});
