/** @module Sums of the contracts' exposures for one weight (OI or volume): per strike and overall. */
import { ascending } from '../../lib/compare.js';
import { anchorShape } from '../../lib/shape-anchors.js';
import { cents } from '../json-safe.js';
import type { GexIncluded, GexStrikeRow, GexTotals } from '../types.js';
import type { GexContract } from './eligibility.js';

export { contractGex, CONTRACT_MULTIPLIER, ONE_PERCENT } from './exposures.js';

/** A contract's weight: its open interest or its day's volume; null = left out. */
export type Weight = (c: GexContract) => number | null;

export const byOpenInterest: Weight = (c) => c.oi;
export const byVolume: Weight = (c) => c.volume;

/** Unrounded sums at one strike (put ≤ 0). */
export interface StrikeSums {
  call: number;
  put: number;
  vanna: number;
  charm: number;
}

/** Unrounded sums over one set of contracts. */
export interface GexSums {
  calls: number;
  puts: number;
  vanna: number;
  charm: number;
  delta: number;
  byStrike: Map<number, StrikeSums>;
  included: GexIncluded;
}

function rowOf(sums: GexSums, strike: number): StrikeSums {
  let row = sums.byStrike.get(strike);
  if (row === undefined) {
    row = { call: 0, put: 0, vanna: 0, charm: 0 };
    sums.byStrike.set(strike, row);
  }
  return row;
}

/**
 * Sums each contract's exposures times its weight. Contracts without the weight add nothing; each
 * exposure counts the contracts that entered it in `included`. Every term is finite (the eligibility
 * guard makes sure of it), so no sum can become NaN or ±Infinity.
 */
export function sumExposures(contracts: readonly GexContract[], weight: Weight): GexSums {
  const sums: GexSums = {
    calls: 0,
    puts: 0,
    vanna: 0,
    charm: 0,
    delta: 0,
    byStrike: new Map(),
    included: { aggregates: 0, profile: 0, delta: 0 },
  };
  for (const c of contracts) {
    const w = weight(c);
    if (w === null) continue;
    if (c.gex !== null) {
      const gex = c.gex * w;
      const row = rowOf(sums, c.strike);
      if (c.sign === 1) {
        row.call += gex;
        sums.calls += gex;
      } else {
        row.put += gex;
        sums.puts += gex;
      }
      sums.included.aggregates++;
    }
    if (c.vanna !== null && c.charm !== null) {
      const vanna = c.vanna * w;
      const charm = c.charm * w;
      const row = rowOf(sums, c.strike);
      row.vanna += vanna;
      row.charm += charm;
      sums.vanna += vanna;
      sums.charm += charm;
      sums.included.profile++;
    }
    if (c.delta !== null) {
      sums.delta += c.delta * w;
      sums.included.delta++;
    }
  }
  // The loop's code depends on these shapes, made anew each build (lib/shape-anchors.ts).
  anchorShape('gex.sums', sums);
  anchorShape('gex.strikeSums', sums.byStrike.values().next().value);
  return sums;
}

/** Totals to the cent; `net` is rounded from the unrounded sum. */
export function publishTotals(sums: Omit<GexSums, 'byStrike' | 'included'>): GexTotals {
  return {
    net: cents(sums.calls + sums.puts),
    calls: cents(sums.calls),
    puts: cents(sums.puts),
    vanna: cents(sums.vanna),
    charm: cents(sums.charm),
    delta: cents(sums.delta),
  };
}

/** Zero totals (off-hours, no spot, a horizon without contracts). */
export function zeroTotals(): GexTotals {
  return { net: 0, calls: 0, puts: 0, vanna: 0, charm: 0, delta: 0 };
}

/** Strike rows to the cent, ascending strike; each row's `net` is `call + put` of the rounded values. */
export function publishStrikeRows(byStrike: ReadonlyMap<number, StrikeSums>): GexStrikeRow[] {
  const strikes = [...byStrike.keys()].sort(ascending);
  const rows: GexStrikeRow[] = [];
  for (const strike of strikes) {
    const sums = byStrike.get(strike) as StrikeSums;
    const call = cents(sums.call);
    const put = cents(sums.put);
    rows.push({
      strike,
      call,
      put,
      net: cents(call + put),
      vanna: cents(sums.vanna),
      charm: cents(sums.charm),
    });
  }
  return rows;
}
