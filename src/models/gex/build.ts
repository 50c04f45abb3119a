/** @module buildGexModel: an epoch's contracts → the published GEX model. */
import { cents, level, modelHeader, usableSpot } from '../json-safe.js';
import type { GexModel, GexProfilePoint, ModelInput } from '../types.js';
import { aggregateGex, publishByExpiration, publishStrikeRows, publishTotals } from './aggregates.js';
import { classifyForGex } from './eligibility.js';
import { gammaProfileKernel, netGexAt, profileLevels } from './profile.js';
import { gexWalls } from './walls.js';
import { findRoots, nearestRoot } from './zero-gamma.js';

/**
 * Builds the GEX model of one epoch. Pure: the same input always gives the same model.
 *
 * Without a usable spot (null, not finite or ≤ 0) the model is still valid: zero totals, empty
 * aggregates and profile, null levels. No number in the result is NaN or ±Infinity.
 *
 * @example
 * const model = buildGexModel({ symbol: 'SPX', epochId, asOf, spot: 6900, contracts, ts: Date.now(), stale: false });
 * model.levels.zero_gamma; // e.g. 6874.31
 */
export function buildGexModel(input: ModelInput): GexModel {
  const { version, ...header } = modelHeader(input);
  const spot = usableSpot(input.spot);
  const { aggregate, profile, excluded, included } = classifyForGex(input.contracts, input.asOf);
  const model: GexModel = {
    version,
    model: 'gex',
    ...header,
    units: 'usd_per_1pct',
    totals: { net: 0, calls: 0, puts: 0 },
    levels: { zero_gamma: null, call_wall: null, put_wall: null, abs_gamma_strike: null },
    zero_gamma_roots: [],
    by_strike: [],
    by_expiration: {},
    profile: [],
    excluded,
    included,
  };
  if (spot === null) return model;

  const sums = aggregateGex(aggregate, spot);
  model.totals = publishTotals(sums.all);
  model.by_strike = publishStrikeRows(sums.all.byStrike);
  model.by_expiration = publishByExpiration(sums.byExpiration);

  const kernel = gammaProfileKernel(profile);
  const netAt = (l: number): number => netGexAt(kernel, l);
  const levels = profileLevels(spot);
  const values = levels.map(netAt);
  model.profile = levels.map((l, i): GexProfilePoint => ({
    level: level(l) ?? 0,
    net: cents(values[i] ?? 0),
  }));

  const roots = findRoots(netAt, levels, values);
  // Distinct after rounding: two roots within 0.01 point publish once.
  model.zero_gamma_roots = [...new Set(roots.map((r) => level(r)).filter((r): r is number => r !== null))];
  model.levels = { zero_gamma: level(nearestRoot(roots, spot)), ...gexWalls(model.by_strike, spot) };
  return model;
}
