/** @module GEX model against an independent computation written here from the documented formulas. */
import { describe, expect, it } from 'vitest';
import { buildGexModel } from '../../src/models/gex/index.js';
import type { GexModel, ModelInput } from '../../src/models/types.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { substrate } from './substrate-fixture.js';

// ── independent reference (no import from src/domain or src/models) ─────────────────────────────────────

const HOUR_MS = 3_600_000;
const YEAR_MS = 365 * 24 * HOUR_MS;
/** 2026-01-07 10:00 New York (EST, UTC−5). */
const AS_OF = Date.UTC(2026, 0, 7, 15, 0);
const SPOT = 6900;

/** Settlement instants written out by hand: PM 16:00 EST = 21:00Z, AM 09:30 EST = 14:30Z. */
const SETTLEMENT: Record<string, number> = {
  'SPXW|2026-01-06': Date.UTC(2026, 0, 6, 21, 0),
  'SPXW|2026-01-07': Date.UTC(2026, 0, 7, 21, 0),
  'SPXW|2026-01-08': Date.UTC(2026, 0, 8, 21, 0),
  'SPX|2026-01-16': Date.UTC(2026, 0, 16, 14, 30),
  'SPXW|2026-01-16': Date.UTC(2026, 0, 16, 21, 0),
};

function refYears(c: ContractSubstrate): number {
  const settle = SETTLEMENT[`${c.root}|${c.expiration}`];
  if (settle === undefined) throw new Error(`no settlement for ${c.root} ${c.expiration}`);
  return (settle - AS_OF) / YEAR_MS;
}

function refBsGamma(s: number, k: number, t: number, iv: number): number {
  const d1 = (Math.log(s / k) + 0.5 * iv * iv * t) / (iv * Math.sqrt(t));
  return Math.exp(-0.5 * d1 * d1) / Math.sqrt(2 * Math.PI) / (s * iv * Math.sqrt(t));
}

const sgn = (c: ContractSubstrate): number => (c.type === 'call' ? 1 : -1);
const live = (c: ContractSubstrate): boolean => refYears(c) > 0;
const inAggregates = (c: ContractSubstrate): boolean => live(c) && c.gamma !== null && c.oi !== null;
const inProfile = (c: ContractSubstrate): boolean => live(c) && c.iv !== null && c.oi !== null;
const refGex = (c: ContractSubstrate, s: number): number => sgn(c) * c.gamma! * c.oi! * 100 * s * s * 0.01;

function refProfile(chain: ContractSubstrate[], l: number): number {
  let sum = 0;
  for (const c of chain.filter(inProfile)) {
    sum += sgn(c) * refBsGamma(l, c.strike, refYears(c), c.iv!) * c.oi! * 100 * l * l * 0.01;
  }
  return sum;
}

/** Every root over [0.8 S, 1.2 S]: a 0.01-point scan, each bracket then bisected to 1e-7. */
function refRoots(chain: ContractSubstrate[], s: number): number[] {
  const f = (l: number): number => refProfile(chain, l);
  const roots: number[] = [];
  const n = Math.round((0.4 * s) / 0.01);
  let x0 = 0.8 * s;
  let f0 = f(x0);
  for (let i = 1; i <= n; i++) {
    const x1 = 0.8 * s + i * 0.01;
    const f1 = f(x1);
    if (f0 !== 0 && f1 !== 0 && f0 > 0 !== f1 > 0) {
      let [lo, hi, flo] = [x0, x1, f0];
      while (hi - lo > 1e-7) {
        const mid = (lo + hi) / 2;
        const fm = f(mid);
        if (fm > 0 === flo > 0) [lo, flo] = [mid, fm];
        else hi = mid;
      }
      roots.push((lo + hi) / 2);
    }
    [x0, f0] = [x1, f1];
  }
  return roots;
}

interface RefRow {
  call: number;
  put: number;
}

function refByStrike(chain: ContractSubstrate[], s: number): Map<number, RefRow> {
  const rows = new Map<number, RefRow>();
  for (const c of chain.filter(inAggregates)) {
    const row = rows.get(c.strike) ?? { call: 0, put: 0 };
    if (c.type === 'call') row.call += refGex(c, s);
    else row.put += refGex(c, s);
    rows.set(c.strike, row);
  }
  return rows;
}

function refArgMax(rows: Map<number, RefRow>, score: (r: RefRow) => number): number {
  let best = [...rows.keys()][0]!;
  for (const [k, r] of rows) if (score(r) > score(rows.get(best)!)) best = k;
  return best;
}

// ── fixtures ─────────────────────────────────────────────────────────────────────────────────────────────

interface Greeks {
  gamma: number | null;
  oi: number | null;
  iv: number | null;
}

function contract(
  root: string,
  expiration: string,
  type: 'C' | 'P',
  strike: number,
  g: Greeks,
): ContractSubstrate {
  return substrate(root, expiration, type, strike, g, AS_OF);
}

const g = (gamma: number | null, oi: number | null, iv: number | null): Greeks => ({ gamma, oi, iv });

/** A 0DTE, a next-day, an AM monthly (with the PM weekly on the same date) and an expired contract. */
const CHAIN: ContractSubstrate[] = [
  // 0DTE, PM: 6 hours left.
  contract('SPXW', '2026-01-07', 'C', 6900, g(0.004, 3000, 0.11)),
  contract('SPXW', '2026-01-07', 'P', 6900, g(0.0038, 2500, 0.12)),
  contract('SPXW', '2026-01-07', 'C', 6950, g(0.002, 4000, 0.1)),
  contract('SPXW', '2026-01-07', 'P', 6850, g(0.0022, 5000, 0.13)),
  contract('SPXW', '2026-01-07', 'C', 6852.5, g(0.003, 100, 0.115)),
  // Next day, PM.
  contract('SPXW', '2026-01-08', 'C', 7000, g(0.0009, 6000, 0.1)),
  contract('SPXW', '2026-01-08', 'P', 6800, g(0.001, 7000, 0.14)),
  contract('SPXW', '2026-01-08', 'C', 6900, g(null, 1200, 0.11)), // no gamma: profile only
  contract('SPXW', '2026-01-08', 'P', 6950, g(0.002, null, 0.12)), // no OI: nowhere
  // Monthly, AM.
  contract('SPX', '2026-01-16', 'C', 7000, g(0.0008, 9000, 0.12)),
  contract('SPX', '2026-01-16', 'P', 6700, g(0.0006, 12000, 0.17)),
  contract('SPX', '2026-01-16', 'P', 6800, g(0.0007, 4000, null)), // no IV: aggregates only
  contract('SPX', '2026-01-16', 'C', 6900, g(null, null, 0.13)), // no gamma, no OI: nowhere
  // PM weekly on the monthly's date: same strikes merge with the AM root in the aggregates.
  contract('SPXW', '2026-01-16', 'C', 7000, g(0.0008, 1000, 0.12)),
  contract('SPXW', '2026-01-16', 'P', 6800, g(0.0007, 500, 0.15)),
  // Settled yesterday.
  contract('SPXW', '2026-01-06', 'C', 6900, g(0.005, 9999, 0.2)),
];

function input(contracts: ContractSubstrate[], spot: number | null = SPOT): ModelInput {
  return {
    symbol: 'SPX',
    epochId: 'SPX:1767798000:t',
    asOf: AS_OF,
    spot,
    contracts,
    ts: AS_OF + 1500,
    stale: false,
  };
}

/** Money as published: the cent, give or take float noise in the last digit. */
function expectMoney(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(0.005 + 1e-12 * Math.abs(expected));
}

/** Every number finite, and the JSON round trip loses nothing (NaN would come back as null). */
function expectJsonSafe(model: GexModel): void {
  const walk = (v: unknown): void => {
    if (typeof v === 'number') expect(Number.isFinite(v), `non-finite number ${v}`).toBe(true);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(model);
  expect(JSON.parse(JSON.stringify(model))).toEqual(model);
}

// ── tests ────────────────────────────────────────────────────────────────────────────────────────────────

describe('buildGexModel on a mixed chain', () => {
  const model = buildGexModel(input(CHAIN));

  it('writes the header', () => {
    expect(model).toMatchObject({
      version: 2,
      model: 'gex',
      symbol: 'SPX',
      epoch_id: 'SPX:1767798000:t',
      ts: '2026-01-07T15:00:01.500Z',
      as_of: '2026-01-07T15:00:00.000Z',
      spot: SPOT,
      stale: false,
      contract_count: CHAIN.length,
      units: 'usd_per_1pct',
    });
    expect(Object.keys(model).slice(0, 3)).toEqual(['version', 'model', 'symbol']);
  });

  it('counts exclusions by the documented rule', () => {
    // The fixture sends no delta: every live contract counts in no_delta.
    expect(model.excluded).toEqual({
      no_gamma: 2,
      no_oi: 2,
      no_iv: 1,
      no_delta: CHAIN.filter(live).length,
      expired: 1,
      invalid: 0,
    });
    expect(model.included).toEqual({
      aggregates: CHAIN.filter(inAggregates).length,
      profile: CHAIN.filter(inProfile).length,
      delta: 0,
    });
    expect(model.included).toEqual({ aggregates: 12, profile: 12, delta: 0 });
  });

  it('matches the independent totals', () => {
    const used = CHAIN.filter(inAggregates);
    const calls = used.filter((c) => c.type === 'call').reduce((s, c) => s + refGex(c, SPOT), 0);
    const puts = used.filter((c) => c.type === 'put').reduce((s, c) => s + refGex(c, SPOT), 0);
    expectMoney(model.totals.calls, calls);
    expectMoney(model.totals.puts, puts);
    expectMoney(model.totals.net, calls + puts);
    expect(model.totals.puts).toBeLessThan(0);
  });

  it('matches the independent per-strike rows, ascending, fractional strike kept', () => {
    const ref = refByStrike(CHAIN, SPOT);
    // A strike has a row when a contract there entered the aggregates (gamma) or vanna/charm (IV).
    const strikes = new Set([...ref.keys(), ...CHAIN.filter(inProfile).map((c) => c.strike)]);
    expect(model.by_strike.map((r) => r.strike)).toEqual([...strikes].sort((a, b) => a - b));
    expect(model.by_strike.map((r) => r.strike)).toContain(6852.5);
    for (const row of model.by_strike) {
      const r = ref.get(row.strike) ?? { call: 0, put: 0 };
      expectMoney(row.call, r.call);
      expectMoney(row.put, r.put);
      expect(row.net).toBe(Math.round((row.call + row.put) * 100) / 100);
    }
  });

  it.each([
    ['2026-01-07', [6850, 6852.5, 6900, 6950]],
    ['2026-01-08', [6800, 6900, 7000]], // 6900: a call with IV and OI but no gamma (vanna, charm only)
    ['2026-01-16', [6700, 6800, 7000]],
  ])('matches the independent rows of %s (both roots merged)', (expiration, strikes) => {
    const exp = model.by_expiration[expiration]!;
    const chain = CHAIN.filter((c) => c.expiration === expiration);
    const ref = refByStrike(chain, SPOT);
    expect(exp.by_strike.map((r) => r.strike)).toEqual(strikes);
    for (const row of exp.by_strike) {
      expectMoney(row.call, ref.get(row.strike)?.call ?? 0);
      expectMoney(row.put, ref.get(row.strike)?.put ?? 0);
    }
    const calls = [...ref.values()].reduce((s, r) => s + r.call, 0);
    const puts = [...ref.values()].reduce((s, r) => s + r.put, 0);
    expectMoney(exp.totals.calls, calls);
    expectMoney(exp.totals.puts, puts);
    expectMoney(exp.totals.net, calls + puts);
  });

  it('leaves the expired date out of by_expiration, in ascending key order', () => {
    expect(Object.keys(model.by_expiration)).toEqual(['2026-01-07', '2026-01-08', '2026-01-16']);
  });

  it('puts the walls where the independent sums put them', () => {
    const ref = refByStrike(CHAIN, SPOT);
    expect(model.levels.call_wall).toBe(refArgMax(ref, (r) => r.call));
    expect(model.levels.put_wall).toBe(refArgMax(ref, (r) => -r.put));
    expect(model.levels.abs_gamma_strike).toBe(refArgMax(ref, (r) => r.call - r.put));
  });

  it('finds zero gamma within 0.01 point of an independent fine-scan solve, and every root', () => {
    const roots = refRoots(CHAIN, SPOT);
    expect(roots.length).toBeGreaterThan(0);
    const nearest = roots.reduce((a, b) => (Math.abs(b - SPOT) < Math.abs(a - SPOT) ? b : a));
    expect(model.levels.zero_gamma).not.toBeNull();
    expect(Math.abs(model.levels.zero_gamma! - nearest)).toBeLessThanOrEqual(0.01);
    expect(model.zero_gamma_roots).toHaveLength(roots.length);
    model.zero_gamma_roots.forEach((r, i) => expect(Math.abs(r - roots[i]!)).toBeLessThanOrEqual(0.01));
  });

  it('publishes the profile over [0.8 S, 1.2 S] matching the independent BS profile', () => {
    expect(model.profile.length).toBeGreaterThanOrEqual(60);
    expect(model.profile[0]!.level).toBe(0.8 * SPOT);
    expect(model.profile.at(-1)!.level).toBe(1.2 * SPOT);
    const n = model.profile.length - 1;
    model.profile.forEach((p, i) => {
      const l = 0.8 * SPOT + (i * 0.4 * SPOT) / n;
      expect(p.level).toBeCloseTo(l, 2);
      expectMoney(p.net, refProfile(CHAIN, l));
    });
    const levels = model.profile.map((p) => p.level);
    expect(levels).toEqual([...levels].sort((a, b) => a - b));
  });

  it('does not depend on the order of the contracts', () => {
    expect(buildGexModel(input([...CHAIN].reverse()))).toEqual(model);
  });

  it('is JSON-safe', () => expectJsonSafe(model));
});

describe('buildGexModel edge cases', () => {
  it('gives null zero gamma when the profile never changes sign (calls only)', () => {
    const calls = CHAIN.filter((c) => c.type === 'call');
    expect(refRoots(calls, SPOT)).toEqual([]);
    const model = buildGexModel(input(calls));
    expect(model.levels.zero_gamma).toBeNull();
    expect(model.zero_gamma_roots).toEqual([]);
    expect(model.levels.put_wall).toBeNull();
    expect(model.levels.call_wall).not.toBeNull();
    expect(model.profile.every((p) => p.net >= 0)).toBe(true);
    expectJsonSafe(model);
  });

  it.each([
    ['an empty chain', [], SPOT],
    ['spot null', CHAIN, null],
    ['spot NaN', CHAIN, Number.NaN],
    ['spot 0', CHAIN, 0],
    ['spot Infinity', CHAIN, Number.POSITIVE_INFINITY],
  ])('publishes a valid zero model for %s', (_name, contracts, spot) => {
    const model = buildGexModel(input(contracts, spot));
    expect(model.totals).toEqual({ net: 0, calls: 0, puts: 0, vanna: 0, charm: 0, delta: 0 });
    expect(model.levels).toEqual({
      zero_gamma: null,
      call_wall: null,
      put_wall: null,
      abs_gamma_strike: null,
    });
    expect(model.zero_gamma_roots).toEqual([]);
    expect(model.by_strike).toEqual([]);
    expect(model.by_expiration).toEqual({});
    expect(model.contract_count).toBe(contracts.length);
    if (usable(spot)) expect(model.profile.every((p) => p.net === 0)).toBe(true);
    else {
      expect(model.spot).toBeNull();
      expect(model.profile).toEqual([]);
    }
    expectJsonSafe(model);
  });

  it('counts a contract that is missing several inputs once per missing input', () => {
    const model = buildGexModel(input([contract('SPXW', '2026-01-08', 'P', 6800, g(null, null, null))]));
    expect(model.excluded).toEqual({
      no_gamma: 1,
      no_oi: 1,
      no_iv: 1,
      no_delta: 1,
      expired: 0,
      invalid: 0,
    });
    expect(model.included).toEqual({ aggregates: 0, profile: 0, delta: 0 });
  });

  it('keeps zero OI and zero gamma as values, treats negative or NaN inputs as missing', () => {
    const model = buildGexModel(
      input([
        contract('SPXW', '2026-01-08', 'C', 6900, g(0, 0, 0.1)),
        contract('SPXW', '2026-01-08', 'C', 6950, g(-0.001, Number.NaN, -0.2)),
      ]),
    );
    expect(model.excluded).toEqual({
      no_gamma: 1,
      no_oi: 1,
      no_iv: 1,
      no_delta: 2,
      expired: 0,
      invalid: 0,
    });
    expect(model.included).toEqual({ aggregates: 1, profile: 1, delta: 0 });
    expect(model.by_strike).toEqual([{ strike: 6900, call: 0, put: 0, net: 0, vanna: 0, charm: 0 }]);
    expect(model.levels.call_wall).toBeNull();
  });

  it('counts unreadable contracts as invalid and expired ones as expired, nothing else', () => {
    const bad = [
      { ...contract('SPXW', '2026-01-08', 'C', 6900, g(0.001, 10, 0.1)), strike: 0 },
      { ...contract('SPXW', '2026-01-08', 'C', 6900, g(0.001, 10, 0.1)), expiration: '2026-13-01' },
      { ...contract('SPXW', '2026-01-08', 'C', 6900, g(0.001, 10, 0.1)), type: 'X' as 'call' },
      contract('SPXW', '2026-01-06', 'P', 6900, g(null, null, null)),
    ];
    const model = buildGexModel(input(bad));
    expect(model.excluded).toEqual({
      no_gamma: 0,
      no_oi: 0,
      no_iv: 0,
      no_delta: 0,
      expired: 1,
      invalid: 3,
    });
    expectJsonSafe(model);
  });

  it('treats the AM monthly as expired after 09:30 on its date while the PM weekly lives on', () => {
    const at = Date.UTC(2026, 0, 16, 15, 0); // 10:00 EST
    const model = buildGexModel({ ...input(CHAIN.filter((c) => c.expiration === '2026-01-16')), asOf: at });
    expect(model.excluded.expired).toBe(4);
    expect(model.by_expiration['2026-01-16']!.by_strike.map((r) => r.strike)).toEqual([6800, 7000]);
  });

  it.each<[string, number, number]>([
    // Christmas Eve 2026 (Thu): the index closes at 13:00 New York (18:00Z) and SPXW settles on that close.
    ['12:00 New York: live, an hour to the 13:00 settlement', Date.UTC(2026, 11, 24, 17, 0), 0],
    ['14:00 New York: settled at the 13:00 close, not live until 16:00', Date.UTC(2026, 11, 24, 19, 0), 1],
  ])('SPXW expiring on an early-close day, %s', (_, at, expired) => {
    const c = substrate('SPXW', '2026-12-24', 'C', 6900, g(0.01, 100, 0.15), at);
    const model = buildGexModel({ ...input([c]), asOf: at });
    expect(model.excluded.expired).toBe(expired);
    expect(model.by_strike.length).toBe(1 - expired);
  });

  it('stays JSON-safe with absurd inputs and invalid times', () => {
    const model = buildGexModel({
      ...input([
        contract('SPXW', '2026-01-08', 'C', 6900, g(1e300, 1e300, 1e-300)),
        contract('SPXW', '2026-01-08', 'P', 6900, g(1e300, 1e300, 1e300)),
      ]),
      ts: Number.NaN,
    });
    expect(model.ts).toBeNull();
    expectJsonSafe(model);
  });

  it.each([
    ['equal calls at different distances: the strike nearest spot', [6850, 6930], 6930],
    ['equal calls equally far from spot: the lower strike', [6850, 6950], 6850],
  ])('breaks wall ties: %s', (_name, strikes, wall) => {
    const chain = strikes.map((k) => contract('SPXW', '2026-01-08', 'C', k, g(0.001, 1000, 0.1)));
    expect(buildGexModel(input(chain)).levels.call_wall).toBe(wall);
  });
});

function usable(spot: number | null): boolean {
  return spot !== null && Number.isFinite(spot) && spot > 0;
}
