/**
 * @module Issue 10 defect 4: one absurd but finite value must not poison GEX. Each absurd value is left
 * out and counted as `invalid`; the totals stay the independent sums of the sane contracts; the JSON
 * stays finite.
 */
import { describe, expect, it } from 'vitest';
import { buildGexModel } from '../../src/models/gex/index.js';
import type { GexModel, ModelInput } from '../../src/models/types.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { substrate } from './substrate-fixture.js';

/** 2026-01-07 10:00 New York. */
const AS_OF = Date.UTC(2026, 0, 7, 15, 0);
const SPOT = 6900;
/** 2026-01-08 16:00 New York, in years from AS_OF: 30 hours. */
const T = (30 * 3600) / (365 * 86400);

function c(type: 'C' | 'P', strike: number, v: Partial<ContractSubstrate>): ContractSubstrate {
  return substrate('SPXW', '2026-01-08', type, strike, { iv: 0.12, delta: 0.5, volume: 10, ...v }, AS_OF);
}

/** A sane chain: three calls and two puts. */
const SANE: ContractSubstrate[] = [
  c('C', 6900, { gamma: 0.004, oi: 3000 }),
  c('C', 6950, { gamma: 0.003, oi: 5000 }),
  c('C', 7000, { gamma: 0.002, oi: 4000 }),
  c('P', 6850, { gamma: 0.003, oi: 6000, delta: -0.4 }),
  c('P', 6800, { gamma: 0.002, oi: 2000, delta: -0.3 }),
];

const input = (contracts: ContractSubstrate[], spot = SPOT): ModelInput => ({
  symbol: 'SPX',
  epochId: 'SPX:1767798000:t',
  asOf: AS_OF,
  spot,
  contracts,
  ts: AS_OF,
  stale: false,
});

/** Independent GEX of the sane chain: s·γ·OI·100·S²·0.01. */
function refTotals(chain: ContractSubstrate[]): { calls: number; puts: number } {
  let calls = 0;
  let puts = 0;
  for (const x of chain) {
    const g = x.gamma! * x.oi! * 100 * SPOT * SPOT * 0.01;
    if (x.type === 'call') calls += g;
    else puts -= g;
  }
  return { calls, puts };
}

function expectFiniteJson(model: GexModel): void {
  const text = JSON.stringify(model);
  expect(text).not.toMatch(/NaN|Infinity|null,"calls"/);
  const walk = (v: unknown): void => {
    if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(JSON.parse(text));
}

describe('GEX with one absurd value (issue 10 defect 4)', () => {
  const ref = refTotals(SANE);
  const saneModel = buildGexModel(input(SANE));

  it.each<[string, ContractSubstrate, number]>([
    ['gamma 1e300', c('C', 6925, { gamma: 1e300, oi: 100 }), 1],
    ['gamma 1e10 with OI just under the cap', c('C', 7100, { gamma: 1e10, oi: 49_999_999 }), 1],
    [
      'gamma 50× the Black-Scholes peak',
      c('C', 6900, { gamma: 50 / (2.5066 * SPOT * 0.12 * Math.sqrt(T)), oi: 10 }),
      1,
    ],
    ['open interest 1e300', c('P', 6700, { gamma: 0.001, oi: 1e300 }), 1],
    ['open interest over the cap', c('P', 6700, { gamma: 0.001, oi: 60_000_000 }), 1],
    ['IV 1e300', c('C', 6925, { gamma: 0.001, oi: 100, iv: 1e300 }), 1],
    ['IV 25 (over 2,000 %)', c('C', 6925, { gamma: 0.001, oi: 100, iv: 25 }), 1],
    ['delta 7', c('C', 6925, { gamma: 0.001, oi: 100, delta: 7 }), 1],
    ['volume 1e300', c('C', 6925, { gamma: 0.001, oi: 100, volume: 1e300 }), 1],
  ])('%s: left out, counted invalid, totals are the sane sums', (_name, bad, invalid) => {
    const model = buildGexModel(input([...SANE, bad]));
    expect(model.excluded.invalid).toBe(invalid);
    expect(Math.abs(model.totals.calls - ref.calls)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(model.totals.puts - ref.puts)).toBeLessThanOrEqual(0.01);
    // by_strike adds up to the totals (the defect: totals 0 while by_strike summed to 2.4e25).
    const calls = model.by_strike.reduce((s, r) => s + r.call, 0);
    expect(Math.abs(calls - model.totals.calls)).toBeLessThanOrEqual(0.05);
    // The walls are those of the sane chain (the defect: a gamma of 1e10 became the call wall).
    expect(model.levels).toEqual(saneModel.levels);
    expect(model.by_basis.volume.totals).toEqual(saneModel.by_basis.volume.totals);
    expectFiniteJson(model);
  });

  it.each([
    ['IV 1e-300 (a failed solve)', 'no_iv', { iv: 1e-300 }],
    ['gamma Infinity (arrives as a non-finite number)', 'no_gamma', { gamma: Number.POSITIVE_INFINITY }],
    ['gamma NaN', 'no_gamma', { gamma: Number.NaN }],
  ] as const)('%s: treated as missing, counted as %s', (_name, counter, v) => {
    const model = buildGexModel(input([...SANE, c('C', 6925, { gamma: 0.001, oi: 100, ...v })]));
    expect(model.excluded[counter]).toBe(1);
    expect(model.excluded.invalid).toBe(0);
    expectFiniteJson(model);
  });

  it.each([
    ['1e200', 1e200],
    ['1e8 (over 10,000,000)', 1e8],
    ['20 × the median strike', 20 * 6900],
    ['the median strike / 20', 6900 / 20],
  ])('rejects an implausible spot (%s): null spot and levels, zero totals', (_name, spot) => {
    const model = buildGexModel(input(SANE, spot));
    expect(model.spot).toBeNull();
    expect(model.totals.net).toBe(0);
    expect(model.levels.call_wall).toBeNull();
    expect(model.by_strike).toEqual([]);
    expectFiniteJson(model);
  });

  it('an NDX spot of 1e200 with no contracts is still rejected', () => {
    expect(buildGexModel({ ...input([], 1e200), symbol: 'NDX' }).spot).toBeNull();
  });

  it('keeps a plausible spot 5× away from the median strike', () => {
    expect(buildGexModel(input(SANE, 5 * 6900)).spot).toBe(5 * 6900);
  });
});
