/** @module GEX per contract and its sums: per strike and expiration, per strike, per expiration, totals. */
import { cents } from '../json-safe.js';
import type { GexExpiration, GexStrikeRow, GexTotals } from '../types.js';
import type { AggregateContract, DealerSign } from './eligibility.js';

/** Contract multiplier: 100 shares of index exposure per contract. */
export const CONTRACT_MULTIPLIER = 100;
/** A 1% move of the underlying. */
export const ONE_PERCENT = 0.01;

/**
 * Dealer GEX of one contract in US dollars per 1% move: `s × gamma × OI × 100 × S² × 0.01`.
 *
 * @example
 * contractGex(1, 0.002, 1000, 6900); // 0.002 × 1000 × 100 × 6900² × 0.01 = 95,220,000
 */
export function contractGex(sign: DealerSign, gamma: number, oi: number, spot: number): number {
  return sign * gamma * oi * CONTRACT_MULTIPLIER * spot * spot * ONE_PERCENT;
}

/** Unrounded call and put GEX at one strike (put ≤ 0). */
export interface StrikeSums {
  call: number;
  put: number;
}

/** Unrounded sums over one set of contracts. */
export interface GexSums {
  calls: number;
  puts: number;
  byStrike: Map<number, StrikeSums>;
}

export interface GexAggregates {
  /** Over all expirations. */
  all: GexSums;
  byExpiration: Map<string, GexSums>;
}

function emptySums(): GexSums {
  return { calls: 0, puts: 0, byStrike: new Map() };
}

function addTo(sums: GexSums, strike: number, sign: DealerSign, gex: number): void {
  let row = sums.byStrike.get(strike);
  if (row === undefined) {
    row = { call: 0, put: 0 };
    sums.byStrike.set(strike, row);
  }
  if (sign === 1) {
    row.call += gex;
    sums.calls += gex;
  } else {
    row.put += gex;
    sums.puts += gex;
  }
}

/** Sums every contract's GEX at `spot` per strike, per expiration and overall. */
export function aggregateGex(contracts: readonly AggregateContract[], spot: number): GexAggregates {
  const all = emptySums();
  const byExpiration = new Map<string, GexSums>();
  for (const c of contracts) {
    const gex = contractGex(c.sign, c.gamma, c.oi, spot);
    addTo(all, c.strike, c.sign, gex);
    let exp = byExpiration.get(c.expiration);
    if (exp === undefined) {
      exp = emptySums();
      byExpiration.set(c.expiration, exp);
    }
    addTo(exp, c.strike, c.sign, gex);
  }
  return { all, byExpiration };
}

/** Totals to the cent; `net` is rounded from the unrounded sum. */
export function publishTotals(sums: Pick<GexSums, 'calls' | 'puts'>): GexTotals {
  return { net: cents(sums.calls + sums.puts), calls: cents(sums.calls), puts: cents(sums.puts) };
}

/** Strike rows to the cent, ascending strike; each row's `net` is `call + put` of the rounded values. */
export function publishStrikeRows(byStrike: ReadonlyMap<number, StrikeSums>): GexStrikeRow[] {
  const strikes = [...byStrike.keys()].sort((a, b) => a - b);
  return strikes.map((strike) => {
    const sums = byStrike.get(strike) as StrikeSums;
    const call = cents(sums.call);
    const put = cents(sums.put);
    return { strike, call, put, net: cents(call + put) };
  });
}

/** `by_expiration`, keyed YYYY-MM-DD in ascending order. */
export function publishByExpiration(
  byExpiration: ReadonlyMap<string, GexSums>,
): Record<string, GexExpiration> {
  const out: Record<string, GexExpiration> = {};
  for (const expiration of [...byExpiration.keys()].sort()) {
    const sums = byExpiration.get(expiration) as GexSums;
    out[expiration] = { totals: publishTotals(sums), by_strike: publishStrikeRows(sums.byStrike) };
  }
  return out;
}
