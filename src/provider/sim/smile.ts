/**
 * @module The simulated volatility surface: iv = atm(T) + skew(T)·x + curvature(T)·x², x = ln(K/S), with an
 * upward ATM term structure, a smile that steepens as 1/√T towards expiry and ATM vol that rises when the
 * spot falls.
 */
import type { SimUnderlying } from './underlyings.js';

const ONE_MONTH = 30 / 365;
/** The short-end steepening stops growing below about two days. */
const MAX_STEEPENING = 4;

/** Implied volatility for log-moneyness `x` = ln(K/S) at `t` years, given the spot's ratio to its base. */
export function smileVol(u: SimUnderlying, t: number, x: number, spotRatio: number): number {
  const tt = Math.max(t, 1e-6);
  const atmTerm = u.atmLong - (u.atmLong - u.atmShort) * Math.exp(-tt / 0.15);
  const atm = atmTerm * Math.min(1.6, Math.max(0.6, 1 - 3 * (spotRatio - 1)));
  const steep = Math.min(MAX_STEEPENING, Math.sqrt(ONE_MONTH / tt));
  const iv = atm + u.skew * steep * x + u.curvature * steep * steep * x * x;
  return Math.min(3, Math.max(0.6 * atm, iv));
}
