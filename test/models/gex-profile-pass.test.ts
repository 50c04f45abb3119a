/**
 * The GEX model's profiles in one pass (the overall OI profile, every date's, and the volume basis's from
 * the same Gaussian terms): every value is bit for bit what a separate evaluation of that set's own kernel
 * gives, the overall profile is the sum of the per-date ones, and the published model equals one built
 * view by view the old way.
 */
import { describe, expect, it } from 'vitest';
import { byOpenInterest, byVolume } from '../../src/models/gex/aggregates.js';
import { classifyForGex } from '../../src/models/gex/eligibility.js';
import { buildGexModel } from '../../src/models/gex/index.js';
import {
  EXP_ZERO_BELOW,
  gammaProfileKernel,
  sharedProfileValues,
  netGexAt,
  profileLevels,
  type SharedProfileContract,
} from '../../src/models/gex/profile.js';
import { gexView, sharedProfiles } from '../../src/models/gex/view.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import { substrate } from './substrate-fixture.js';

const SPOT = 6900;
const AS_OF = Date.UTC(2026, 0, 7, 15, 0);
const DATES = ['2026-01-07', '2026-01-08', '2026-01-09', '2026-01-16', '2026-02-20'];

/** A chain of several dates, interleaved (input order is not grouped by date), with varied IV and OI. */
function chain(): ContractSubstrate[] {
  const out: ContractSubstrate[] = [];
  let seed = 7;
  const rnd = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  for (let k = 6500; k <= 7300; k += 25) {
    for (const exp of DATES) {
      for (const type of ['C', 'P'] as const) {
        const iv = 0.1 + 0.2 * rnd();
        out.push(
          substrate(
            exp === '2026-01-16' || exp === '2026-02-20' ? 'SPX' : 'SPXW',
            exp,
            type,
            k,
            {
              iv,
              gamma: 0.0005 + 0.002 * rnd(),
              delta: type === 'C' ? rnd() : -rnd(),
              oi: rnd() < 0.1 ? 0 : Math.round(5000 * rnd()),
              volume: Math.round(1000 * rnd()),
            },
            AS_OF / 1000,
          ),
        );
      }
    }
  }
  return out;
}

describe('GEX profiles in one pass', () => {
  const { contracts } = classifyForGex(chain(), AS_OF, SPOT);
  const dates = [...new Set(contracts.map((c) => c.expiration))].sort();
  const index = new Map(dates.map((d, i) => [d, i]));
  const grid = sharedProfiles(contracts, SPOT, index, dates.length);
  const levels = profileLevels(SPOT);

  it('each value is bit for bit the separate evaluation of that set', () => {
    const alone = (list: typeof contracts): number[] => {
      const k = gammaProfileKernel(
        list
          .filter((c) => c.iv !== null && c.oi !== null)
          .map((c) => ({ ...c, iv: c.iv as number, oi: c.oi as number })),
      );
      return levels.map((l) => netGexAt(k, l));
    };
    expect(grid.all).toEqual(alone(contracts));
    for (const [i, d] of dates.entries()) {
      expect(grid.byGroup[i]).toEqual(alone(contracts.filter((c) => c.expiration === d)));
    }
    expect(dates.length).toBe(DATES.length);
  });

  it('the overall profile is the sum of the per-date profiles', () => {
    for (const [j, v] of grid.all.entries()) {
      const sum = grid.byGroup.reduce((s: number, g: number[]) => s + (g[j] as number), 0);
      expect(Math.abs(v - sum)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v)));
    }
  });

  it('sharedProfileValues: one group is netGexAt; a zero weight leaves a basis out', () => {
    const rows = [
      { strike: 6900, sign: 1 as const, t: 0.02, iv: 0.15, oi: 1000, volume: 0, group: 0 },
      { strike: 6800, sign: -1 as const, t: 0.05, iv: 0.2, oi: 0, volume: 300, group: 0 },
      { strike: 7000, sign: 1 as const, t: 0.05, iv: 0.25, oi: 700, volume: 50, group: 0 },
    ];
    const levelsHere = [6500, 6900, 7300];
    const r = sharedProfileValues(rows, 1, levelsHere);
    const oiK = gammaProfileKernel(rows);
    const volK = gammaProfileKernel(rows.map((c) => ({ ...c, oi: c.volume })));
    expect(r.all).toEqual(levelsHere.map((l) => netGexAt(oiK, l)));
    expect(r.byGroup[0]).toEqual(r.all);
    expect(r.volume).toEqual(levelsHere.map((l) => netGexAt(volK, l)));
  });

  it('the published model equals the one built view by view without the shared pass', () => {
    const model = buildGexModel({
      symbol: 'SPX',
      epochId: 'e',
      asOf: AS_OF,
      spot: SPOT,
      contracts: chain(),
      ts: AS_OF,
      stale: false,
    });
    const all = gexView(contracts, byOpenInterest, SPOT);
    const volume = gexView(contracts, byVolume, SPOT);
    expect(model.by_basis.volume.levels).toEqual(volume.levels);
    expect(model.by_basis.volume.zero_gamma_roots).toEqual(volume.zero_gamma_roots);
    expect(model.profile).toEqual(all.profile);
    expect(model.levels).toEqual(all.levels);
    expect(model.zero_gamma_roots).toEqual(all.zero_gamma_roots);
    for (const d of dates) {
      const v = gexView(
        contracts.filter((c) => c.expiration === d),
        byOpenInterest,
        SPOT,
      );
      expect(model.by_expiration[d]).toEqual({
        totals: v.totals,
        levels: v.levels,
        zero_gamma_roots: v.zero_gamma_roots,
        by_strike: v.by_strike,
        profile: v.profile,
      });
    }
  });

  it('skips only terms that are exactly 0: Math.exp is 0 below EXP_ZERO_BELOW, and not just above −745', () => {
    expect(Object.is(Math.exp(EXP_ZERO_BELOW), 0)).toBe(true);
    expect(Object.is(Math.exp(EXP_ZERO_BELOW - 1e-9), 0)).toBe(true);
    expect(Math.exp(-745)).toBeGreaterThan(0);
  });

  /** The straightforward evaluation: level by level, every contract's term, no skipping, no sharing. */
  function straight(rows: readonly SharedProfileContract[], groups: number, levels: readonly number[]) {
    const at = (
      level: number,
      weight: (c: SharedProfileContract) => number,
      keep: (c: SharedProfileContract) => boolean,
    ): number => {
      let sum = 0;
      for (const c of rows) {
        const wt = weight(c);
        if (!(wt > 0) || !keep(c)) continue;
        const volT = c.iv * Math.sqrt(c.t);
        const d = (1 / volT) * Math.log(level) + (-Math.log(c.strike) / volT + 0.5 * volT);
        sum += ((c.sign * wt * (1 / Math.sqrt(2 * Math.PI))) / volT) * Math.exp(-0.5 * d * d);
      }
      return sum * level;
    };
    return {
      all: levels.map((l) =>
        at(
          l,
          (c) => c.oi,
          () => true,
        ),
      ),
      byGroup: Array.from({ length: groups }, (_, g) =>
        levels.map((l) =>
          at(
            l,
            (c) => c.oi,
            (c) => c.group === g,
          ),
        ),
      ),
      volume: levels.map((l) =>
        at(
          l,
          (c) => c.volume,
          () => true,
        ),
      ),
    };
  }

  it.each([
    ['0DTE minutes before the close (most terms underflow)', 5e-6, 0.05],
    ['0DTE, a few hours', 6.8e-4, 0.12],
    ['a month', 0.08, 0.2],
    ['a year, high IV', 1, 1.5],
  ])('sharedProfileValues is the straightforward sum to the bit: %s', (_name, t, iv) => {
    const rows: SharedProfileContract[] = [];
    for (let k = 5000; k <= 9000; k += 5) {
      const i = rows.length;
      rows.push({
        strike: k,
        sign: i % 2 === 0 ? 1 : -1,
        t: t * (1 + (i % 3) * 0.5),
        iv: iv * (1 + (i % 7) * 0.1),
        oi: i % 5 === 0 ? 0 : 100 + (i % 11) * 37,
        volume: i % 4 === 0 ? 0 : 10 + (i % 13) * 3,
        group: i % 3,
      });
    }
    const levels = profileLevels(SPOT);
    const got = sharedProfileValues(rows, 3, levels);
    const want = straight(rows, 3, levels);
    expect(got.all).toEqual(want.all);
    expect(got.byGroup).toEqual(want.byGroup);
    expect(got.volume).toEqual(want.volume);
    const k = gammaProfileKernel(rows);
    expect(levels.map((l) => netGexAt(k, l))).toEqual(want.all);
  });
});
