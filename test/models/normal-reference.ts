/**
 * @module The standard normal CDF written independently of src/domain/black-scholes.ts, for the model tests'
 * reference computations.
 */

/** erf by `2/√π · e^{−z²} · Σ 2ⁿ z^{2n+1} / (2n+1)!!` (every term positive: no cancellation). */
export function erf(z: number): number {
  if (z < 0) return -erf(-z);
  if (z > 6) return 1;
  let term = z;
  let sum = z;
  for (let n = 1; n < 400; n++) {
    term *= (2 * z * z) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-z * z) * sum;
}

/** Standard normal CDF. */
export const cdf = (x: number): number => 0.5 * (1 + erf(x / Math.SQRT2));
