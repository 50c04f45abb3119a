/**
 * @module Black-Scholes prices and greeks (r and q as parameters; the GEX profile uses r = q = 0).
 *
 * The normal CDF uses Hart's double-precision algorithm (Graeme West's form), accurate to about 1e-14,
 * so greeks are right far beyond what a quote needs.
 */

export type OptionSide = 'C' | 'P';

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** Standard normal density. */
export function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

/** Standard normal cumulative distribution (Hart 1968, double precision). */
export function normCdf(x: number): number {
  const z = Math.abs(x);
  let c: number;
  if (z > 37) {
    c = 0;
  } else {
    const e = Math.exp(-0.5 * z * z);
    if (z < 7.07106781186547) {
      let n = 3.52624965998911e-2 * z + 0.700383064443688;
      n = n * z + 6.37396220353165;
      n = n * z + 33.912866078383;
      n = n * z + 112.079291497871;
      n = n * z + 221.213596169931;
      n = n * z + 220.206867912376;
      let d = 8.83883476483184e-2 * z + 1.75566716318264;
      d = d * z + 16.064177579207;
      d = d * z + 86.7807322029461;
      d = d * z + 296.564248779674;
      d = d * z + 637.333633378831;
      d = d * z + 793.826512519948;
      d = d * z + 440.413735824752;
      c = (e * n) / d;
    } else {
      let d = z + 0.65;
      d = z + 4 / d;
      d = z + 3 / d;
      d = z + 2 / d;
      d = z + 1 / d;
      c = e / d / 2.506628274631;
    }
  }
  return x > 0 ? 1 - c : c;
}

export interface BsInput {
  side: OptionSide;
  spot: number;
  strike: number;
  /** Time to expiry in years (365-day years). */
  t: number;
  /** Annualised implied volatility, e.g. 0.18. */
  iv: number;
  r?: number;
  q?: number;
}

export interface BsResult {
  price: number;
  delta: number;
  gamma: number;
  /** Per calendar day (the vendor's convention). */
  theta: number;
  /** Per 1 vol point (0.01). */
  vega: number;
}

/** Black-Scholes gamma alone: the GEX profile calls this thousands of times per level. */
export function bsGamma(spot: number, strike: number, t: number, iv: number, r = 0, q = 0): number {
  if (!(t > 0) || !(iv > 0) || !(spot > 0) || !(strike > 0)) return 0;
  const sqrtT = Math.sqrt(t);
  const volT = iv * sqrtT;
  const d1 = (Math.log(spot / strike) + (r - q + 0.5 * iv * iv) * t) / volT;
  return (Math.exp(-q * t) * normPdf(d1)) / (spot * volT);
}

/** Full Black-Scholes price and greeks. Returns intrinsic value and zero greeks when t or iv is not positive. */
export function blackScholes(input: BsInput): BsResult {
  const { side, spot, strike, t, iv } = input;
  const r = input.r ?? 0;
  const q = input.q ?? 0;
  if (!(t > 0) || !(iv > 0)) {
    const intrinsic = side === 'C' ? Math.max(0, spot - strike) : Math.max(0, strike - spot);
    const delta = side === 'C' ? (spot > strike ? 1 : 0) : spot < strike ? -1 : 0;
    return { price: intrinsic, delta, gamma: 0, theta: 0, vega: 0 };
  }
  const sqrtT = Math.sqrt(t);
  const volT = iv * sqrtT;
  const d1 = (Math.log(spot / strike) + (r - q + 0.5 * iv * iv) * t) / volT;
  const d2 = d1 - volT;
  const dfq = Math.exp(-q * t);
  const dfr = Math.exp(-r * t);
  const pdf = normPdf(d1);
  const gamma = (dfq * pdf) / (spot * volT);
  const vega = (spot * dfq * pdf * sqrtT) / 100;
  if (side === 'C') {
    const price = spot * dfq * normCdf(d1) - strike * dfr * normCdf(d2);
    const thetaYear =
      (-spot * dfq * pdf * iv) / (2 * sqrtT) - r * strike * dfr * normCdf(d2) + q * spot * dfq * normCdf(d1);
    return { price, delta: dfq * normCdf(d1), gamma, theta: thetaYear / 365, vega };
  }
  const price = strike * dfr * normCdf(-d2) - spot * dfq * normCdf(-d1);
  const thetaYear =
    (-spot * dfq * pdf * iv) / (2 * sqrtT) + r * strike * dfr * normCdf(-d2) - q * spot * dfq * normCdf(-d1);
  return { price, delta: -dfq * normCdf(-d1), gamma, theta: thetaYear / 365, vega };
}
