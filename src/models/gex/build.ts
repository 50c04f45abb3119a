/** @module buildGexModel: an epoch's contracts → the published GEX model. */
import { anchorShape } from '../../lib/shape-anchors.js';
import { modelHeader, modelSpot } from '../json-safe.js';
import type { GexBasisView, GexExpiration, GexModel, ModelInput } from '../types.js';
import { byOpenInterest, byVolume, zeroTotals } from './aggregates.js';
import { classifyForGex, type GexContract } from './eligibility.js';
import { emptyHorizons, gexHorizons } from './horizons.js';
import { gexView, nullLevels, sharedProfiles, type GexView } from './view.js';

/** Contracts by expiration date, ascending. */
function byDate(contracts: readonly GexContract[]): Map<string, GexContract[]> {
  const out = new Map<string, GexContract[]>();
  for (const c of contracts) {
    let list = out.get(c.expiration);
    if (list === undefined) {
      list = [];
      out.set(c.expiration, list);
    }
    list.push(c);
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Contracts without a day's volume. */
function withoutVolume(contracts: readonly GexContract[]): number {
  let n = 0;
  for (const c of contracts) if (c.volume === null) n++;
  return n;
}

/** True when any contract entered any computation of the view. */
function used(view: GexView): boolean {
  const i = view.included;
  return i.aggregates + i.profile + i.delta > 0;
}

function expirationOf(view: GexView): GexExpiration {
  return {
    totals: view.totals,
    levels: view.levels,
    zero_gamma_roots: view.zero_gamma_roots,
    by_strike: view.by_strike,
    profile: view.profile,
  };
}

function emptyBasis(): GexBasisView {
  return {
    totals: zeroTotals(),
    levels: nullLevels(),
    zero_gamma_roots: [],
    by_strike: [],
    included: { aggregates: 0, profile: 0, delta: 0 },
    no_weight: 0,
  };
}

/**
 * Builds the GEX model of one epoch. Pure: the same input always gives the same model.
 *
 * Without a usable spot (null, not finite, ≤ 0, or implausible against the strikes) the model is still
 * valid: zero totals, empty aggregates and profile, null levels. No number in the result is NaN or
 * ±Infinity.
 *
 * @example
 * const model = buildGexModel({ symbol: 'SPX', epochId, asOf, spot: 6900, contracts, ts: Date.now(), stale: false });
 * model.levels.zero_gamma; // e.g. 6874.31
 * model.by_expiration['2026-01-07']?.levels.put_wall; // that date's own put wall
 */
export function buildGexModel(input: ModelInput): GexModel {
  const { version, ...header } = modelHeader(input);
  const spot = modelSpot(input);
  const { contracts, excluded } = classifyForGex(input.contracts, input.asOf, spot);
  // The optimized code of the loops below depends on these shapes (see lib/shape-anchors.ts).
  anchorShape('substrate', input.contracts[0]);
  anchorShape('gex.contract', contracts[0]);
  const model: GexModel = {
    version,
    model: 'gex',
    ...header,
    basis: 'oi',
    units: 'usd_per_1pct',
    units_vanna: 'usd_delta_per_vol_point',
    units_charm: 'usd_delta_per_day',
    units_delta: 'usd_delta',
    totals: zeroTotals(),
    levels: nullLevels(),
    zero_gamma_roots: [],
    by_strike: [],
    by_expiration: {},
    profile: [],
    horizons: emptyHorizons(),
    by_basis: { volume: emptyBasis() },
    excluded,
    included: { aggregates: 0, profile: 0, delta: 0 },
  };
  if (spot === null) return model;

  // The overall profile, every date's and the volume basis's in one pass over the contracts.
  const dates = [...byDate(contracts)];
  const dateIndex = new Map<string, number>();
  dates.forEach(([date], i) => dateIndex.set(date, i));
  const profiles = sharedProfiles(contracts, spot, dateIndex, dates.length);
  const all = gexView(contracts, byOpenInterest, spot, profiles.all);
  model.totals = all.totals;
  model.levels = all.levels;
  model.zero_gamma_roots = all.zero_gamma_roots;
  model.by_strike = all.by_strike;
  model.profile = all.profile;
  model.included = all.included;

  const views = new Map<string, GexView>();
  for (const [i, [date, list]] of dates.entries()) {
    const view = gexView(list, byOpenInterest, spot, profiles.byGroup[i]);
    if (!used(view)) continue;
    views.set(date, view);
    model.by_expiration[date] = expirationOf(view);
  }
  model.horizons = gexHorizons(views, all, input.asOf);

  const volume = gexView(contracts, byVolume, spot, profiles.volume);
  model.by_basis.volume = {
    totals: volume.totals,
    levels: volume.levels,
    zero_gamma_roots: volume.zero_gamma_roots,
    by_strike: volume.by_strike,
    included: volume.included,
    no_weight: withoutVolume(contracts),
  };
  return model;
}
