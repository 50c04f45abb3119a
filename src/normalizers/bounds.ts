/**
 * @module Physical bounds on vendor values: the one place that says what a price, a greek, open interest,
 * volume or a spot can be. The normalizer rejects what is outside them before anything is written; the
 * model builders check them again on what they read (stored JSON can come from a replay or an older
 * worker) together with the bounds that need spot and time to expiry. Every bound is generous: it only
 * has to separate "possible" from "corrupt". docs/models.md explains each one.
 */

/** Open interest above this is corrupt (the largest real SPX strikes hold a few hundred thousand). */
export const MAX_OPEN_INTEREST = 50_000_000;
/** A day's volume above this is corrupt (SPX trades a few million contracts a day over the whole chain). */
export const MAX_VOLUME = 50_000_000;
/** Implied volatility, annualised: 20 = 2,000 %; even VIX options rarely quote above 4. */
export const MAX_IV = 20;
/**
 * Below this an IV is a failed solve (deep in the money), not a volatility: 0.1 % a year is far under any
 * index's realised volatility. Treated as missing, not as corrupt.
 */
export const MIN_IV = 0.001;
/** |delta| of one option is at most 1; the slack absorbs vendor rounding. */
export const MAX_ABS_DELTA = 1 + 1e-6;
/**
 * An option price (per share) above this is corrupt: the largest index (NDX, about 25,000) times 40.
 * A call is worth at most spot, a put at most its strike.
 */
export const MAX_PRICE = 1_000_000;
/**
 * Gamma × strike above this is corrupt, whatever the spot. `S·Γ = φ(d1)/(σ√T) ≤ 0.4/(σ√T)`: even at
 * σ = 5 % one minute before settlement that is about 5,800, and strikes near spot make `K·Γ ≈ S·Γ`.
 */
export const MAX_GAMMA_TIMES_STRIKE = 1e5;
/** |theta| per calendar day above this many strikes is corrupt (a day's decay is at most the price). */
export const MAX_THETA_PER_STRIKE = 10;
/** Vega per vol point above one strike is corrupt: `S·φ(d1)·√T/100 ≤ 0.013·S` for T under 10 years. */
export const MAX_VEGA_PER_STRIKE = 1;
/** No index stands anywhere near this (NDX is about 25,000). */
export const MAX_SPOT = 10_000_000;
/** Spot must lie within this factor of the chain's median strike (listed strikes straddle spot). */
export const SPOT_STRIKE_FACTOR = 10;
/**
 * A contract's gamma may be at most this many times the Black-Scholes maximum for its spot, IV and time
 * to expiry (`1/(√(2π)·S·σ√T)`, the at-the-money peak): room for a vendor's own clock or volatility.
 */
export const GAMMA_CEILING_FACTOR = 10;
/** The gamma ceiling uses at least this IV (a tiny or missing IV would lift it to infinity). */
export const GAMMA_CEILING_MIN_IV = 0.01;
/** The gamma ceiling uses at least one minute to expiry, in years of 365 days. */
export const GAMMA_CEILING_MIN_YEARS = 60 / (365 * 24 * 3600);

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/**
 * The largest gamma a contract can carry at `spot` with implied volatility `iv` (null: unknown) and `t`
 * years to settlement: {@link GAMMA_CEILING_FACTOR} × the Black-Scholes at-the-money peak.
 *
 * @example
 * gammaCeiling(6900, 0.15, 1 / 365); // 10 / (√(2π)·6900·0.15·√(1/365)) ≈ 0.0737
 */
export function gammaCeiling(spot: number, iv: number | null, t: number): number {
  const sigma = Math.max(iv ?? 0, GAMMA_CEILING_MIN_IV);
  const years = Math.max(t, GAMMA_CEILING_MIN_YEARS);
  return GAMMA_CEILING_FACTOR / (SQRT_2PI * spot * sigma * Math.sqrt(years));
}

/**
 * The median of the strikes (0 for none): what a spot is checked against.
 *
 * @example
 * medianStrike([6800, 6900, 7000, 7100]); // 6950
 */
export function medianStrike(strikes: readonly number[]): number {
  const usable: number[] = [];
  for (const k of strikes) if (Number.isFinite(k) && k > 0) usable.push(k);
  const s = Float64Array.from(usable).sort();
  if (s.length === 0) return 0;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : 0.5 * ((s[mid - 1] as number) + (s[mid] as number));
}

/**
 * True when `spot` can be an index level: positive, finite, at most {@link MAX_SPOT}, and (with strikes)
 * within {@link SPOT_STRIKE_FACTOR} of their median.
 *
 * @example
 * plausibleSpot(6900, 6950); // true
 * plausibleSpot(1e200, 25000); // false
 */
export function plausibleSpot(spot: number, median: number): boolean {
  if (!(Number.isFinite(spot) && spot > 0 && spot <= MAX_SPOT)) return false;
  if (!(median > 0)) return true;
  return spot <= median * SPOT_STRIKE_FACTOR && spot >= median / SPOT_STRIKE_FACTOR;
}
