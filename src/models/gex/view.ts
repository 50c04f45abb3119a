/**
 * @module One view of GEX over a set of contracts and a weight: totals, strike rows, walls, zero gamma
 * and the profile. The all-expiration model, each expiration date and the volume basis are views.
 */
import { anchorShape } from '../../lib/shape-anchors.js';
import { cents, level } from '../json-safe.js';
import type { GexIncluded, GexLevels, GexProfilePoint, GexStrikeRow, GexTotals } from '../types.js';
import { publishStrikeRows, publishTotals, sumExposures, type Weight } from './aggregates.js';
import type { GexContract } from './eligibility.js';
import {
  gammaProfileKernel,
  netGexAt,
  profileLevels,
  SharedKernel,
  sharedKernelValues,
  type GammaProfileKernel,
  type ProfileContract,
} from './profile.js';
import { gexWalls } from './walls.js';
import { findRoots, nearestRoot } from './zero-gamma.js';

export interface GexView {
  totals: GexTotals;
  levels: GexLevels;
  zero_gamma_roots: number[];
  by_strike: GexStrikeRow[];
  profile: GexProfilePoint[];
  included: GexIncluded;
  /** Unrounded gross GEX, calls + |puts|: what a horizon's share is measured in. */
  gross: number;
}

/** Null levels (no spot, no contracts). */
export function nullLevels(): GexLevels {
  return { zero_gamma: null, call_wall: null, put_wall: null, abs_gamma_strike: null };
}

/** The profile's inputs: contracts with IV and the weight. */
function profileContracts(contracts: readonly GexContract[], weight: Weight): ProfileContract[] {
  const out: ProfileContract[] = [];
  for (const c of contracts) {
    const w = weight(c);
    if (w === null || c.iv === null) continue;
    out.push({ strike: c.strike, sign: c.sign, t: c.t, iv: c.iv, oi: w });
  }
  anchorShape('gex.profileContract', out[0]);
  return out;
}

/**
 * The profile values (at `profileLevels(spot)`) that {@link gexView} computes for `contracts` by open
 * interest, for each group of them by open interest, and for all of them by volume, in one pass,
 * identical to the last bit (see {@link sharedKernelValues}). `groupOf` maps an expiration to its group,
 * 0 .. groups − 1 (an expiration it does not list: group 0).
 */
export function sharedProfiles(
  contracts: readonly GexContract[],
  spot: number,
  groupOf: ReadonlyMap<string, number>,
  groups: number,
): { all: number[]; byGroup: number[][]; volume: number[] } {
  const kernel = new SharedKernel(contracts.length);
  addToKernel(kernel, contracts, groupOf);
  return sharedKernelValues(kernel, groups, profileLevels(spot));
}

/** {@link sharedProfiles}'s loop, on its own so that code compiled while it runs ends with it (see `kernelSum`). */
function addToKernel(
  kernel: SharedKernel,
  contracts: readonly GexContract[],
  groupOf: ReadonlyMap<string, number>,
): void {
  for (const c of contracts) {
    if (c.iv === null) continue;
    kernel.add(c.strike, c.sign, c.t, c.iv, c.oi ?? 0, c.volume ?? 0, groupOf.get(c.expiration) ?? 0);
  }
}

/**
 * GEX of `contracts` weighted by `weight` at `spot`: the same rules whatever the set (all expirations,
 * one date, one horizon) and whatever the weight (open interest, volume).
 *
 * `profileValues`, when given, are the profile at `profileLevels(spot)` computed beforehand (see
 * {@link sharedProfiles}); the kernel is then only evaluated to refine zero gamma.
 *
 * @example
 * gexView(contracts.filter((c) => c.expiration === '2026-01-07'), byOpenInterest, 6900).levels.put_wall;
 */
export function gexView(
  contracts: readonly GexContract[],
  weight: Weight,
  spot: number,
  profileValues?: readonly number[],
): GexView {
  const sums = sumExposures(contracts, weight);
  const byStrike = publishStrikeRows(sums.byStrike);

  // The kernel is built only when it is evaluated: with `profileValues`, only to refine a zero gamma.
  let kernel: GammaProfileKernel | null = null;
  const netAt = (l: number): number =>
    netGexAt((kernel ??= gammaProfileKernel(profileContracts(contracts, weight))), l);
  const levels = profileLevels(spot);
  const values = profileValues ?? levels.map(netAt);
  // A loop, not a closure made per build (whose optimized code would not outlive the build).
  const profile: GexProfilePoint[] = [];
  for (let i = 0; i < levels.length; i++)
    profile.push({ level: level(levels[i]) ?? 0, net: cents(values[i] ?? 0) });
  const roots = findRoots(netAt, levels, values);
  return {
    totals: publishTotals(sums),
    // Distinct after rounding: two roots within 0.01 point publish once.
    zero_gamma_roots: [...new Set(roots.map((r) => level(r)).filter((r): r is number => r !== null))],
    levels: { zero_gamma: level(nearestRoot(roots, spot)), ...gexWalls(byStrike, spot) },
    by_strike: byStrike,
    profile,
    included: sums.included,
    gross: sums.calls - sums.puts,
  };
}
