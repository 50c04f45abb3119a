/** @module The heatmap JSON written as text is byte for byte JSON.stringify of the model object. */
import { describe, expect, it } from 'vitest';
import {
  buildHeatmapModel,
  heatmapCapacity,
  heatmapModelBytes,
  heatmapModelJson,
} from '../../src/models/heatmap/index.js';
import { buildModelsFrom } from '../../src/models/build-models.js';
import { buildGexModel } from '../../src/models/gex/index.js';
import type { HeatmapInput } from '../../src/models/types.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { SimMarket } from '../../src/provider/sim/sim-market.js';
import { BENCH_WIDTHS, simSubstrates } from '../../bench/sim-chain.js';
import { substrate } from './substrate-fixture.js';

const AS_OF = Date.UTC(2026, 0, 7, 15, 0);
const JAN16 = '2026-01-16';

function c(
  root: string,
  exp: string,
  type: 'C' | 'P',
  strike: number,
  mid: number | null,
): ContractSubstrate {
  return substrate(root, exp, type, strike, { mid, bid: mid === null ? 1 : null, ask: null }, AS_OF);
}

/** Integer and half strikes (key order: integers first), a missing mid, a crossed butterfly, an AM root. */
const CHAIN: ContractSubstrate[] = [
  ...[6775, 6800, 6825, 6850, 6852.5, 6855, 6875, 6900, 6925].map((k, i) =>
    c('SPXW', JAN16, 'C', k, k === 6875 ? null : 80 - i * 9.5 + (k === 6850 ? 6 : 0)),
  ),
  ...[6775, 6800, 6825, 6847.5, 6850, 6875, 6900].map((k, i) => c('SPXW', JAN16, 'P', k, 10 + i * 7.25)),
  c('SPX', '2026-02-20', 'C', 6825, 90),
  c('SPX', '2026-02-20', 'C', 6850, 75),
  c('SPX', '2026-02-20', 'C', 6875, 61.5),
  c('SPX', '2026-02-20', 'P', 6850, 50),
  c('SPXW', '2026-01-06', 'C', 6850, 1),
];

function input(over: Partial<HeatmapInput> = {}): HeatmapInput {
  return {
    symbol: 'SPX',
    epochId: 'SPX:1767798000:abcdef',
    asOf: AS_OF,
    spot: 6850,
    contracts: CHAIN,
    ts: AS_OF + 2000,
    stale: false,
    widths: [25, 2.5, 50],
    windowPct: 1,
    ...over,
  };
}

const same = (i: HeatmapInput, extra: Record<string, unknown> = {}): void => {
  const text = heatmapModelJson(i, extra);
  expect(text).toBe(JSON.stringify({ ...buildHeatmapModel(i), ...extra }));
};

describe('heatmapModelJson', () => {
  it('writes the same bytes as JSON.stringify of the model (half strikes and widths, flags, density)', () => {
    const text = heatmapModelJson(input());
    // The fixture has tiles of every kind, half-point keys and flags: the comparison covers them.
    expect(text).toContain('"6852.5":');
    expect(text).toContain('"2.5":');
    const flags = (JSON.parse(text) as { flags: { negative_butterfly: number } }).flags;
    expect(flags.negative_butterfly).toBeGreaterThan(0);
    same(input());
  });

  it('the same with the GEX levels, the live header, every strike, no spot, no contracts', () => {
    const levels = new Map([[JAN16, { zero_gamma: 6840, call_wall: 6900, put_wall: 6800 }]]);
    same(input({ levels }), { live: { source: 'snapshot', quote_age_ms: null } });
    same(input({ windowPct: 0 }));
    same(input({ spot: null }));
    same(input({ spot: null, windowPct: 0 }));
    same(input({ contracts: [] }));
    same(input({ widths: [] }));
  });

  it('escapes a root that JSON must escape', () => {
    const odd = CHAIN.map((x) => ({ ...x, root: x.root === 'SPXW' ? 'SP"X\\W\u00e9' : x.root }));
    same(input({ contracts: odd }));
  });

  it('the burst chain (SPX + NDX, ~20,000 contracts) as the model thread builds it', () => {
    const now = Date.parse('2026-01-07T15:00:00Z');
    const market = new SimMarket({ clock: () => now, burst: true });
    for (const u of ['SPX', 'NDX']) {
      const { contracts, spot } = simSubstrates(market, u, now);
      const base = { symbol: u, epochId: 'e', asOf: now, spot, contracts, ts: now, stale: false };
      const gex = buildGexModel(base);
      const levels = new Map(
        Object.entries(gex.by_expiration).map(([d, e]) => [
          d,
          { zero_gamma: e.levels.zero_gamma, call_wall: e.levels.call_wall, put_wall: e.levels.put_wall },
        ]),
      );
      const hm = { ...base, widths: BENCH_WIDTHS[u] ?? [5], windowPct: 5, levels };
      const expected = JSON.stringify(buildHeatmapModel(hm));
      expect(expected.length).toBeGreaterThan(3_000_000);
      const built = buildModelsFrom(contracts, hm);
      expect(Buffer.from(built.heatmap).toString('utf8')).toBe(expected);
      // Without an estimate: the doubling writer's buffer (handed over when at most 1/8 of it is unused)
      // or a copy of exactly the document.
      const unused = built.heatmap.buffer.byteLength - built.heatmap.byteLength;
      expect(unused).toBeLessThanOrEqual(built.heatmap.byteLength / 8);
      // The next build, sized from this one (as the builder and the live thread ask): the same bytes,
      // written into the estimated buffer and handed over without a copy.
      const size = built.heatmap.byteLength;
      const again = buildModelsFrom(contracts, { ...hm, lastHeatmapBytes: size });
      expect(Buffer.from(again.heatmap).toString('utf8')).toBe(expected);
      expect([again.heatmap.byteOffset, again.heatmap.byteLength]).toEqual([0, size]);
      expect(again.heatmap.buffer.byteLength).toBe(heatmapCapacity(size));
    }
  }, 60_000);

  it.each([
    // [what, the last heatmap's size as a share of this one's, copied (a buffer of exactly its size)]
    ['the same size', 1, false],
    ['2 % larger before (the unused part still within 1/8)', 1.02, false],
    ['much larger before (over 1/8 unused: copied)', 1.5, true],
    ['much smaller before (outgrown: grown to 428 KB, then copied)', 0.3, true],
  ])('sized from the last heatmap: %s', (_what, share, copied) => {
    const hm = input();
    // ~300 KB: the estimate's 16 KiB is within the slack (a document of a few KB is always copied).
    const extra = { pad: 'x'.repeat(300_000) };
    const expected = JSON.stringify({ ...buildHeatmapModel(hm), ...extra });
    const bytes = heatmapModelBytes(hm, extra, heatmapCapacity(Math.round(expected.length * share)));
    expect(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')).toBe(expected);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength === bytes.byteLength).toBe(copied);
  });
});

describe('heatmapCapacity', () => {
  it.each([
    [0, 16_384],
    [1_000, 17_424],
    [4_380_000, 4_571_584],
  ])('%i bytes last time: a buffer of %i', (last, capacity) => {
    expect(heatmapCapacity(last)).toBe(capacity);
  });
});
