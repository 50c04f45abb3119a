/**
 * @module Implied volatility from an option price: Black-Scholes inversion with r = q = 0.
 *
 * The solver always inverts the out-of-the-money side (put-call parity with r = q = 0: C − P = S − K), so a
 * deep in-the-money quote is not swamped by its intrinsic value. It works on the log of the price, which is
 * close to linear in vol even far in the wings, with Newton steps kept inside a shrinking bracket
 * (bisection when a step would leave it). A price outside the no-arbitrage bounds, or one that needs a vol
 * outside [{@link MIN_VOL}, {@link MAX_VOL}], has no solution: the caller keeps the snapshot IV and counts it.
 */
import { normCdf, normPdf, type OptionSide } from '../domain/black-scholes.js';

/** Lowest vol the solver reports (0.01%). */
export const MIN_VOL = 1e-4;
/** Highest vol the solver reports (1,000%). */
export const MAX_VOL = 10;
/** Convergence: the bracket or the Newton step is below this, in vol. */
const VOL_TOL = 1e-10;
const MAX_ITER = 100;

export interface IvInput {
  side: OptionSide;
  spot: number;
  strike: number;
  /** Years (of 365 days) to settlement. */
  t: number;
  /** Option price (a mid), per share. */
  price: number;
}

export type IvResult =
  | { ok: true; iv: number; iterations: number }
  | { ok: false; reason: 'bad_input' | 'expired' | 'below_intrinsic' | 'above_max' | 'below_min' };

/** Price of the out-of-the-money side (call if K ≥ S, else put) and its vega, r = q = 0. */
function otmPriceVega(spot: number, strike: number, t: number, vol: number): { price: number; vega: number } {
  const sqrtT = Math.sqrt(t);
  const volT = vol * sqrtT;
  const d1 = (Math.log(spot / strike) + 0.5 * vol * vol * t) / volT;
  const d2 = d1 - volT;
  const price =
    strike >= spot ? spot * normCdf(d1) - strike * normCdf(d2) : strike * normCdf(-d2) - spot * normCdf(-d1);
  return { price, vega: spot * normPdf(d1) * sqrtT };
}

/**
 * Solves for the vol that prices the option at `price` (r = q = 0).
 *
 * @example
 * impliedVol({ side: 'C', spot: 6850, strike: 6900, t: 7 / 365, price: 38.1 }); // { ok: true, iv: ≈0.16, … }
 */
export function impliedVol(input: IvInput): IvResult {
  const { side, spot, strike, t, price } = input;
  if (![spot, strike, t, price].every(Number.isFinite) || !(spot > 0) || !(strike > 0)) {
    return { ok: false, reason: 'bad_input' };
  }
  if (!(t > 0)) return { ok: false, reason: 'expired' };
  const intrinsic = side === 'C' ? Math.max(0, spot - strike) : Math.max(0, strike - spot);
  const upper = side === 'C' ? spot : strike;
  if (!(price < upper)) return { ok: false, reason: 'above_max' };
  // The out-of-the-money price by parity: the call and the put with the same strike share their time value.
  const target = price - intrinsic;
  if (!(target > 0)) return { ok: false, reason: 'below_intrinsic' };
  const logTarget = Math.log(target);

  let lo = MIN_VOL;
  let hi = MAX_VOL;
  const fLo = otmPriceVega(spot, strike, t, lo).price;
  const fHi = otmPriceVega(spot, strike, t, hi).price;
  if (target < fLo) return { ok: false, reason: 'below_min' };
  if (target > fHi) return { ok: false, reason: 'above_max' };

  // Start at the at-the-money approximation (Brenner–Subrahmanyam), clamped into the bracket.
  let vol = Math.min(hi, Math.max(lo, (target / spot) * Math.sqrt((2 * Math.PI) / t)));
  for (let i = 1; i <= MAX_ITER; i++) {
    const { price: p, vega } = otmPriceVega(spot, strike, t, vol);
    const g = p > 0 ? Math.log(p) - logTarget : Number.NEGATIVE_INFINITY;
    if (g === 0) return { ok: true, iv: vol, iterations: i };
    if (g < 0) lo = vol;
    else hi = vol;
    // Newton on log price: d/dvol log p = vega / p.
    let next = p > 0 && vega > 0 ? vol - g / (vega / p) : Number.NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - vol) < VOL_TOL || hi - lo < VOL_TOL) return { ok: true, iv: next, iterations: i };
    vol = next;
  }
  return { ok: true, iv: vol, iterations: MAX_ITER };
}
