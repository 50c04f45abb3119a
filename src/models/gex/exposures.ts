/**
 * @module One contract's dealer exposures: GEX (gamma), vanna, charm and delta, in the published units.
 *
 * Conventions (docs/models.md, "Exposures"): dealers are long the calls and short the puts (`s = +1` for a
 * call, `−1` for a put); 100 shares per contract; Black-Scholes with r = q = 0 and σ = the contract's IV.
 */

/** +1 for calls (dealers long), −1 for puts (dealers short). */
export type DealerSign = 1 | -1;

/** Contract multiplier: 100 shares of index exposure per contract. */
export const CONTRACT_MULTIPLIER = 100;
/** A 1% move of the underlying. */
export const ONE_PERCENT = 0.01;
/** One vol point: 0.01 of annualised volatility. */
export const VOL_POINT = 0.01;
/** Calendar days per year (the clock of T). */
export const DAYS_PER_YEAR = 365;

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Dealer GEX of one contract in US dollars per 1% move: `s × gamma × OI × 100 × S² × 0.01`.
 *
 * @example
 * contractGex(1, 0.002, 1000, 6900); // 0.002 × 1000 × 100 × 6900² × 0.01 = 95,220,000
 */
export function contractGex(sign: DealerSign, gamma: number, oi: number, spot: number): number {
  return sign * gamma * oi * CONTRACT_MULTIPLIER * spot * spot * ONE_PERCENT;
}

/** Black-Scholes vanna (per unit of σ) and charm (per year), identical for a call and a put. */
export interface VannaCharm {
  /** `∂Δ/∂σ = −φ(d1)·d2/σ`. */
  vanna: number;
  /** `dΔ/dt` as time passes `= −∂Δ/∂T = φ(d1)·d2/(2T)`. */
  charm: number;
}

/**
 * Vanna and charm at `spot` with r = q = 0: `d1 = (ln(S/K) + σ²T/2)/(σ√T)`, `d2 = d1 − σ√T`.
 *
 * @example
 * vannaCharm(6900, 6900, 0.02, 0.15); // d2 = −0.0106: vanna ≈ 0.0282, charm ≈ −0.1058 per year
 */
export function vannaCharm(spot: number, strike: number, t: number, iv: number): VannaCharm {
  const volT = iv * Math.sqrt(t);
  const d1 = Math.log(spot / strike) / volT + 0.5 * volT;
  const d2 = d1 - volT;
  const pdf = INV_SQRT_2PI * Math.exp(-0.5 * d1 * d1);
  return { vanna: (-pdf * d2) / iv, charm: (pdf * d2) / (2 * t) };
}

/**
 * Dealer vanna exposure in US dollars of delta per vol point: `s × vanna × OI × 100 × S × 0.01`.
 *
 * @example
 * contractVanna(1, 0.5, 1000, 6900); // 0.5 × 1000 × 100 × 6900 × 0.01 = 3,450,000
 */
export function contractVanna(sign: DealerSign, vanna: number, oi: number, spot: number): number {
  return sign * vanna * oi * CONTRACT_MULTIPLIER * spot * VOL_POINT;
}

/**
 * Dealer charm exposure in US dollars of delta per calendar day: `s × charm × OI × 100 × S / 365`.
 *
 * @example
 * contractCharm(-1, 3.65, 1000, 6900); // −3.65 × 1000 × 100 × 6900 / 365 = −6,900,000
 */
export function contractCharm(sign: DealerSign, charm: number, oi: number, spot: number): number {
  return (sign * charm * oi * CONTRACT_MULTIPLIER * spot) / DAYS_PER_YEAR;
}

/**
 * Dealer delta exposure in US dollars from the vendor's delta: `s × Δ × OI × 100 × S`.
 *
 * @example
 * contractDelta(-1, -0.25, 1000, 6900); // dealers short puts are long delta: 172,500,000
 */
export function contractDelta(sign: DealerSign, delta: number, oi: number, spot: number): number {
  return sign * delta * oi * CONTRACT_MULTIPLIER * spot;
}
