/**
 * @module Vanna, charm and delta exposures, per-expiration levels, horizons and the volume basis, against
 * independent computations written here: vanna and charm are finite differences of a Black-Scholes delta
 * whose normal CDF is a positive-term erf series (no import from src/domain or src/models maths).
 */
import { describe, expect, it } from 'vitest';
import { buildGexModel } from '../../src/models/gex/index.js';
import type { GexModel, ModelInput } from '../../src/models/types.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { substrate } from './substrate-fixture.js';
import { cdf } from './normal-reference.js';

// ── independent reference ────────────────────────────────────────────────────────────────────────────────

const YEAR_MS = 365 * 86_400_000;

/** Black-Scholes delta, r = q = 0. */
function bsDelta(call: boolean, s: number, k: number, t: number, iv: number): number {
  const d1 = (Math.log(s / k) + 0.5 * iv * iv * t) / (iv * Math.sqrt(t));
  return call ? cdf(d1) : cdf(d1) - 1;
}

/** ∂Δ/∂σ by a central difference. */
function fdVanna(call: boolean, s: number, k: number, t: number, iv: number): number {
  const h = 1e-5 * iv;
  return (bsDelta(call, s, k, t, iv + h) - bsDelta(call, s, k, t, iv - h)) / (2 * h);
}

/** dΔ/dt as time passes (T shrinks), per year, by a central difference. */
function fdCharm(call: boolean, s: number, k: number, t: number, iv: number): number {
  const h = 1e-4 * t;
  return (bsDelta(call, s, k, t - h, iv) - bsDelta(call, s, k, t + h, iv)) / (2 * h);
}

function bsGamma(s: number, k: number, t: number, iv: number): number {
  const d1 = (Math.log(s / k) + 0.5 * iv * iv * t) / (iv * Math.sqrt(t));
  return Math.exp(-0.5 * d1 * d1) / Math.sqrt(2 * Math.PI) / (s * iv * Math.sqrt(t));
}

// ── fixtures ─────────────────────────────────────────────────────────────────────────────────────────────

const SPOT = 6900;
/** 2026-01-07 15:55 New York: five minutes before the 0DTE's 16:00 settlement. */
const LATE = Date.UTC(2026, 0, 7, 20, 55);
/** 2026-01-07 10:00 New York. */
const MORNING = Date.UTC(2026, 0, 7, 15, 0);
const SETTLE: Record<string, number> = {
  '2026-01-07': Date.UTC(2026, 0, 7, 21, 0),
  '2026-01-08': Date.UTC(2026, 0, 8, 21, 0),
  '2026-01-16': Date.UTC(2026, 0, 16, 21, 0),
};

interface Row {
  exp: string;
  type: 'C' | 'P';
  k: number;
  gamma: number | null;
  iv: number | null;
  delta: number | null;
  oi: number | null;
  volume: number | null;
}

const row = (
  exp: string,
  type: 'C' | 'P',
  k: number,
  gamma: number | null,
  iv: number | null,
  delta: number | null,
  oi: number | null,
  volume: number | null,
): Row => ({ exp, type, k, gamma, iv, delta, oi, volume });

const ROWS: Row[] = [
  // 0DTE
  row('2026-01-07', 'C', 6900, 0.02, 0.1, 0.52, 3000, 9000),
  row('2026-01-07', 'C', 6910, 0.012, 0.1, 0.3, 2500, 20000),
  row('2026-01-07', 'P', 6890, 0.015, 0.11, -0.35, 4000, 15000),
  row('2026-01-07', 'P', 6875, 0.006, 0.12, -0.1, 6000, 3000),
  row('2026-01-07', 'C', 6950, null, 0.09, null, 1000, null), // no gamma, no delta, no volume
  // next day
  row('2026-01-08', 'C', 6950, 0.004, 0.11, 0.3, 5000, 800),
  row('2026-01-08', 'P', 6800, 0.002, 0.15, -0.1, 40000, 2000),
  row('2026-01-08', 'P', 6900, 0.005, null, -0.48, 2000, 500), // no IV: no vanna, charm, profile
  // next week
  row('2026-01-16', 'C', 7000, 0.0015, 0.12, 0.25, 9000, 400),
  row('2026-01-16', 'P', 6700, 0.0009, 0.18, -0.12, 12000, 600),
];

const CHAIN: ContractSubstrate[] = ROWS.map((r) =>
  substrate(
    'SPXW',
    r.exp,
    r.type,
    r.k,
    { gamma: r.gamma, iv: r.iv, delta: r.delta, oi: r.oi, volume: r.volume },
    0,
  ),
);

const input = (asOf: number, contracts = CHAIN, spot = SPOT): ModelInput => ({
  symbol: 'SPX',
  epochId: 'SPX:1:t',
  asOf,
  spot,
  contracts,
  ts: asOf,
  stale: false,
});

const years = (r: Row, asOf: number): number => ((SETTLE[r.exp] as number) - asOf) / YEAR_MS;
const sign = (r: Row): number => (r.type === 'C' ? 1 : -1);

interface Ref {
  calls: number;
  puts: number;
  vanna: number;
  charm: number;
  delta: number;
}

/** Independent exposures of `rows` with weight `w`. */
function ref(rows: Row[], asOf: number, w: (r: Row) => number | null): Ref {
  const out: Ref = { calls: 0, puts: 0, vanna: 0, charm: 0, delta: 0 };
  for (const r of rows) {
    const n = w(r);
    if (n === null) continue;
    const t = years(r, asOf);
    if (r.gamma !== null) {
      const g = sign(r) * r.gamma * n * 100 * SPOT * SPOT * 0.01;
      if (r.type === 'C') out.calls += g;
      else out.puts += g;
    }
    if (r.iv !== null) {
      out.vanna += sign(r) * fdVanna(r.type === 'C', SPOT, r.k, t, r.iv) * n * 100 * SPOT * 0.01;
      out.charm += (sign(r) * fdCharm(r.type === 'C', SPOT, r.k, t, r.iv) * n * 100 * SPOT) / 365;
    }
    if (r.delta !== null) out.delta += sign(r) * r.delta * n * 100 * SPOT;
  }
  return out;
}

/** Within a cent plus a relative 1e-6 (the finite differences' own error). */
function close(actual: number, expected: number, rel = 1e-6): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(0.01 + rel * Math.abs(expected));
}

function expectTotals(actual: GexModel['totals'], r: Ref): void {
  close(actual.calls, r.calls);
  close(actual.puts, r.puts);
  close(actual.net, r.calls + r.puts);
  close(actual.vanna, r.vanna);
  close(actual.charm, r.charm);
  close(actual.delta, r.delta);
}

/** Walls from independent per-strike sums. */
function refWalls(rows: Row[], w: (r: Row) => number | null): { call: number | null; put: number | null } {
  const calls = new Map<number, number>();
  const puts = new Map<number, number>();
  for (const r of rows) {
    const n = w(r);
    if (n === null || r.gamma === null) continue;
    const m = r.type === 'C' ? calls : puts;
    m.set(r.k, (m.get(r.k) ?? 0) + r.gamma * n);
  }
  const top = (m: Map<number, number>): number | null =>
    [...m].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  return { call: top(calls), put: top(puts) };
}

/** Roots of an independent net-GEX profile of `rows`, scanned at 0.5 points then bisected. */
function refZeroGamma(rows: Row[], asOf: number, w: (r: Row) => number | null): number | null {
  const f = (l: number): number => {
    let sum = 0;
    for (const r of rows) {
      const n = w(r);
      if (n === null || r.iv === null) continue;
      sum += sign(r) * bsGamma(l, r.k, years(r, asOf), r.iv) * n * 100 * l * l * 0.01;
    }
    return sum;
  };
  let best: number | null = null;
  let x0 = 0.8 * SPOT;
  let f0 = f(x0);
  for (let x1 = x0 + 0.5; x1 <= 1.2 * SPOT; x1 += 0.5) {
    const f1 = f(x1);
    if (f0 !== 0 && f1 !== 0 && f0 > 0 !== f1 > 0) {
      let [lo, hi, flo] = [x0, x1, f0];
      while (hi - lo > 1e-6) {
        const mid = (lo + hi) / 2;
        const fm = f(mid);
        if (fm > 0 === flo > 0) [lo, flo] = [mid, fm];
        else hi = mid;
      }
      const root = (lo + hi) / 2;
      if (best === null || Math.abs(root - SPOT) < Math.abs(best - SPOT)) best = root;
    }
    [x0, f0] = [x1, f1];
  }
  return best;
}

const byOi = (r: Row): number | null => r.oi;
const byVol = (r: Row): number | null => r.volume;

// ── tests ────────────────────────────────────────────────────────────────────────────────────────────────

describe('vanna, charm and delta exposures', () => {
  it.each([
    ['10:00 New York', MORNING],
    ['15:55 New York, five minutes before the 0DTE settles', LATE],
  ])('totals match finite differences of Black-Scholes delta at %s', (_name, asOf) => {
    const model = buildGexModel(input(asOf));
    expect(model).toMatchObject({
      version: 2,
      basis: 'oi',
      units: 'usd_per_1pct',
      units_vanna: 'usd_delta_per_vol_point',
      units_charm: 'usd_delta_per_day',
      units_delta: 'usd_delta',
    });
    expectTotals(model.totals, ref(ROWS, asOf, byOi));
  });

  it('per strike and per expiration, vanna and charm match the reference', () => {
    const model = buildGexModel(input(MORNING));
    for (const s of model.by_strike) {
      const r = ref(
        ROWS.filter((x) => x.k === s.strike),
        MORNING,
        byOi,
      );
      close(s.vanna, r.vanna);
      close(s.charm, r.charm);
    }
    for (const [date, exp] of Object.entries(model.by_expiration)) {
      expectTotals(
        exp.totals,
        ref(
          ROWS.filter((x) => x.exp === date),
          MORNING,
          byOi,
        ),
      );
    }
  });

  it.each<[string, number, boolean, number]>([
    // Vanna is −φ(d1)·d2/σ: positive for an OTM call (d2 < 0) and an OTM put (d2 > 0 → negative ∂Δ/∂σ,
    // times the dealer's −1); charm of an OTM call is negative (its delta decays as time passes).
    ['an out-of-the-money call: dealers long, delta decays', 7000, true, -1],
    ['an in-the-money call: delta grows towards 1', 6800, true, 1],
  ])('charm sign of %s', (_name, k, call, expected) => {
    const c = substrate('SPXW', '2026-01-08', call ? 'C' : 'P', k, { iv: 0.12, oi: 100 }, 0);
    const model = buildGexModel(input(MORNING, [c]));
    expect(Math.sign(model.totals.charm)).toBe(expected);
  });

  it('counts missing inputs: no IV leaves vanna and charm out, no delta leaves delta out', () => {
    const model = buildGexModel(input(MORNING));
    expect(model.excluded).toMatchObject({ no_gamma: 1, no_iv: 1, no_delta: 1, invalid: 0, expired: 0 });
    expect(model.included).toEqual({
      aggregates: ROWS.filter((r) => r.gamma !== null).length,
      profile: ROWS.filter((r) => r.iv !== null).length,
      delta: ROWS.filter((r) => r.delta !== null).length,
    });
  });
});

describe('levels per expiration', () => {
  const model = buildGexModel(input(MORNING));

  it.each(['2026-01-07', '2026-01-08', '2026-01-16'])('%s has its own walls and zero gamma', (date) => {
    const rows = ROWS.filter((r) => r.exp === date);
    const exp = model.by_expiration[date]!;
    const walls = refWalls(rows, byOi);
    expect(exp.levels.call_wall).toBe(walls.call);
    expect(exp.levels.put_wall).toBe(walls.put);
    const z = refZeroGamma(rows, MORNING, byOi);
    if (z === null) expect(exp.levels.zero_gamma).toBeNull();
    else expect(Math.abs(exp.levels.zero_gamma! - z)).toBeLessThanOrEqual(0.01);
    expect(exp.profile).toHaveLength(241);
    expect(exp.profile[0]!.level).toBe(0.8 * SPOT);
  });

  it("the 0DTE's put wall is its own, not the all-expiration one", () => {
    expect(model.by_expiration['2026-01-07']!.levels.put_wall).toBe(6890);
    expect(model.levels.put_wall).toBe(6800);
  });

  it('the per-date profiles add up to the all-expiration profile', () => {
    model.profile.forEach((p, i) => {
      const sum = Object.values(model.by_expiration).reduce((s, e) => s + e.profile[i]!.net, 0);
      expect(Math.abs(sum - p.net)).toBeLessThanOrEqual(0.05);
    });
  });
});

describe('horizons', () => {
  const gross = (r: Ref): number => r.calls - r.puts;

  it('0dte, next and all at 10:00 on an expiration day, with their share of |GEX|', () => {
    const model = buildGexModel(input(MORNING));
    const h = model.horizons;
    expect(h['0dte'].expirations).toEqual(['2026-01-07']);
    expect(h.next.expirations).toEqual(['2026-01-08']);
    expect(h.all.expirations).toEqual(['2026-01-07', '2026-01-08', '2026-01-16']);
    const all = ref(ROWS, MORNING, byOi);
    for (const [name, date] of [
      ['0dte', '2026-01-07'],
      ['next', '2026-01-08'],
    ] as const) {
      const r = ref(
        ROWS.filter((x) => x.exp === date),
        MORNING,
        byOi,
      );
      expectTotals(h[name].totals, r);
      expect(h[name].levels).toEqual(model.by_expiration[date]!.levels);
      expect(Math.abs(h[name].share - gross(r) / gross(all))).toBeLessThanOrEqual(0.00005);
    }
    expect(h.all.share).toBe(1);
    expect(h.all.totals).toEqual(model.totals);
    expect(h.all.levels).toEqual(model.levels);
  });

  it('after the 0DTE settles (16:05) there is no 0dte horizon and next is tomorrow', () => {
    const model = buildGexModel(input(Date.UTC(2026, 0, 7, 21, 5)));
    expect(model.horizons['0dte']).toEqual({
      expirations: [],
      totals: { net: 0, calls: 0, puts: 0, vanna: 0, charm: 0, delta: 0 },
      levels: { zero_gamma: null, call_wall: null, put_wall: null, abs_gamma_strike: null },
      share: 0,
    });
    expect(model.horizons.next.expirations).toEqual(['2026-01-08']);
  });

  it('the day before (Tuesday 20:00 New York) next is the 7th and no date is 0DTE', () => {
    const model = buildGexModel(input(Date.UTC(2026, 0, 7, 1, 0)));
    expect(model.horizons['0dte'].expirations).toEqual([]);
    expect(model.horizons.next.expirations).toEqual(['2026-01-07']);
  });
});

describe('volume basis', () => {
  const model = buildGexModel(input(MORNING));
  const vol = model.by_basis.volume;

  it('totals, strike rows and walls use the day volume in place of open interest', () => {
    expectTotals(vol.totals, ref(ROWS, MORNING, byVol));
    const walls = refWalls(ROWS, byVol);
    expect(vol.levels.call_wall).toBe(walls.call);
    expect(vol.levels.put_wall).toBe(walls.put);
    const z = refZeroGamma(ROWS, MORNING, byVol);
    if (z === null) expect(vol.levels.zero_gamma).toBeNull();
    else expect(Math.abs(vol.levels.zero_gamma! - z)).toBeLessThanOrEqual(0.01);
    for (const s of vol.by_strike) {
      const rows = ROWS.filter((r) => r.k === s.strike);
      const r = ref(rows, MORNING, byVol);
      close(s.call, r.calls);
      close(s.put, r.puts);
    }
  });

  it('counts the contracts without volume and leaves them out', () => {
    expect(vol.no_weight).toBe(1);
    expect(vol.included.aggregates).toBe(ROWS.filter((r) => r.volume !== null && r.gamma !== null).length);
  });

  it('differs from the OI basis (the call wall moves with the day flow)', () => {
    expect(model.levels.call_wall).toBe(6900);
    expect(vol.levels.call_wall).toBe(6910);
  });
});
