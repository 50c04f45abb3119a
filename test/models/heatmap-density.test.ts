/**
 * @module The implied density (Breeden–Litzenberger) and the arbitrage flags, against a lognormal chain
 * whose density and distribution are known in closed form (computed here, not imported).
 */
import { describe, expect, it } from 'vitest';
import { buildModels } from '../../src/models/build-models.js';
import { buildHeatmapModel } from '../../src/models/heatmap/index.js';
import type { GexModel, HeatmapInput, HeatmapModel } from '../../src/models/types.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { substrate } from './substrate-fixture.js';
import { cdf } from './normal-reference.js';

/** 2026-01-07 10:00 New York; the 2026-02-20 PM expiry is 44.25 days later. */
const AS_OF = Date.UTC(2026, 0, 7, 15, 0);
const EXP = '2026-02-20';
const T = (Date.UTC(2026, 1, 20, 21, 0) - AS_OF) / (365 * 86_400_000);
const S = 6900;
const VOL = 0.15;
const sd = VOL * Math.sqrt(T);
const d2 = (k: number): number => (Math.log(S / k) - 0.5 * sd * sd) / sd;
const callPrice = (k: number): number => S * cdf(d2(k) + sd) - k * cdf(d2(k));
/** Lognormal density of S_T at k, and P(S_T ≤ k). */
const pdfAt = (k: number): number => Math.exp(-0.5 * d2(k) ** 2) / Math.sqrt(2 * Math.PI) / (k * sd);
const cdfAt = (k: number): number => cdf(-d2(k));

const STRIKES = Array.from({ length: 161 }, (_, i) => 5000 + 25 * i); // 5000 … 9000
/** Mids to the thousandth, as two half-cent quotes can give. */
const mid = (k: number): number => Math.max(0.001, Math.round(callPrice(k) * 1000) / 1000);

/** Independent count of negative narrowest (25-point) call butterflies: rounding noise far from the money. */
function negativeFlies(override: Record<number, number> = {}): number {
  const m = (k: number): number => Math.round((override[k] ?? mid(k)) * 1000);
  return STRIKES.slice(1, -1).filter((k) => m(k - 25) + m(k + 25) - 2 * m(k) < 0).length;
}

function chain(override: Record<number, number> = {}): ContractSubstrate[] {
  return STRIKES.map((k) => substrate('SPXW', EXP, 'C', k, { mid: override[k] ?? mid(k) }, 0));
}

const input = (contracts: ContractSubstrate[], extra: Partial<HeatmapInput> = {}): HeatmapInput => ({
  symbol: 'SPX',
  epochId: 'SPX:1:t',
  asOf: AS_OF,
  spot: S,
  contracts,
  ts: AS_OF,
  stale: false,
  widths: [25, 50],
  windowPct: 5,
  ...extra,
});

describe('implied density from call butterflies', () => {
  const levels = new Map([[EXP, { put_wall: 6700, call_wall: 7100, zero_gamma: 6880 }]]);
  const model = buildHeatmapModel(input(chain(), { levels }));
  const density = model.expirations[EXP]!.density!;

  it('matches the lognormal density within 1 % near the money, published inside the window', () => {
    expect(density.source).toBe('call_butterflies');
    expect(density.points.length).toBeGreaterThan(20);
    for (const p of density.points) {
      expect(p.strike).toBeGreaterThanOrEqual(0.95 * S);
      expect(p.strike).toBeLessThanOrEqual(1.05 * S);
      // A butterfly of width w averages the density over [K − w, K + w]: a relative 1 % at w = 25.
      expect(Math.abs(p.density / pdfAt(p.strike) - 1)).toBeLessThan(0.01);
      expect(Math.abs(p.cumulative - cdfAt(p.strike))).toBeLessThan(0.003);
    }
    // The strikes cover the distribution: the raw mass is about 1 (r = 0).
    expect(Math.abs(density.coverage - 1)).toBeLessThan(0.01);
    expect(density.negative_butterflies).toBe(negativeFlies());
  });

  it('gives the probability between the walls and near zero gamma', () => {
    expect(density.levels).toEqual({ put_wall: 6700, call_wall: 7100, zero_gamma: 6880 });
    expect(Math.abs(density.probabilities.between_walls! - (cdfAt(7100) - cdfAt(6700)))).toBeLessThan(0.003);
    const near = 0.005 * S;
    expect(
      Math.abs(density.probabilities.near_zero_gamma! - (cdfAt(6880 + near) - cdfAt(6880 - near))),
    ).toBeLessThan(0.002);
  });

  it('without levels: null levels and probabilities', () => {
    const plain = buildHeatmapModel(input(chain())).expirations[EXP]!.density!;
    expect(plain.levels).toBeNull();
    expect(plain.probabilities).toEqual({ between_walls: null, near_zero_gamma: null });
  });

  it('uses the narrowest width with quotes: a missing strike falls back to the wider wings', () => {
    const sparse = chain().filter((c) => c.strike !== 6925);
    const d = buildHeatmapModel(input(sparse)).expirations[EXP]!.density!;
    // 6900 has no 6925 wing at width 25: its butterfly is 6850/6900/6950 (width 50).
    const p = d.points.find((x) => x.strike === 6900)!;
    expect(Math.abs(p.density / pdfAt(6900) - 1)).toBeLessThan(0.02);
    expect(d.points.some((x) => x.strike === 6925)).toBe(false);
  });
});

describe('arbitrage flags', () => {
  it('flags and counts a negative butterfly and a vertical worth more than its width', () => {
    // A stale 6900 call at 250: 6875/6900/6925 is negative, 6900/6925 worth more than 25.
    const model: HeatmapModel = buildHeatmapModel(input(chain({ 6900: 250 })));
    const exp = model.expirations[EXP]!;
    expect(exp.flags.negative_butterfly).toEqual(
      expect.arrayContaining([
        { type: 'call', strike: 6900, width: 25, value: exp.butterfly.call['6900']!['25']!.value },
      ]),
    );
    expect(exp.butterfly.call['6900']!['25']!.value).toBeLessThan(0);
    expect(exp.flags.vertical_over_width).toContainEqual({
      type: 'call',
      strike: 6900,
      width: 25,
      value: exp.vertical.call['6900']!['25']!.value,
    });
    expect(exp.vertical.call['6900']!['25']!.value).toBeGreaterThan(25);
    expect(model.flags).toEqual({
      negative_butterfly: exp.flags.negative_butterfly.length,
      vertical_over_width: exp.flags.vertical_over_width.length,
    });
    expect(exp.density!.negative_butterflies).toBe(negativeFlies({ 6900: 250 }));
    expect(negativeFlies({ 6900: 250 })).toBe(negativeFlies() + 1);
  });

  it('a clean chain has no flags', () => {
    expect(buildHeatmapModel(input(chain())).flags).toEqual({
      negative_butterfly: 0,
      vertical_over_width: 0,
    });
  });
});

describe('buildModels links the heatmap density to the GEX levels of the same date', () => {
  it('density.levels are the GEX model by_expiration levels', () => {
    const contracts = chain().map((c, i) => ({ ...c, gamma: 0.0005, oi: 100 + (i % 7) * 50, iv: VOL }));
    const res = buildModels({
      symbol: 'SPX',
      epochId: 'SPX:1:t',
      asOf: AS_OF,
      spot: S,
      ts: AS_OF,
      stale: false,
      widths: [25],
      windowPct: 5,
      substrates: Buffer.from(JSON.stringify(contracts)),
    });
    const gex = JSON.parse(Buffer.from(res.gex).toString('utf8')) as GexModel;
    const heat = JSON.parse(Buffer.from(res.heatmap).toString('utf8')) as HeatmapModel;
    const { zero_gamma, call_wall, put_wall } = gex.by_expiration[EXP]!.levels;
    expect(call_wall).not.toBeNull();
    expect(heat.expirations[EXP]!.density!.levels).toEqual({ zero_gamma, call_wall, put_wall });
    expect(JSON.stringify(heat)).not.toMatch(/NaN|Infinity/);
  });
});
