/** @module Rounding to what the vendor sends: cents, option tick sizes, a few significant digits. */

/** Rounds to `decimals` places without binary noise in the JSON (0.1 + 0.2 style). */
export function roundTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** Rounds to `digits` significant digits (0 stays 0). */
export function roundSig(x: number, digits: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  return Number(x.toPrecision(digits));
}

/** Option tick size for a quote: $0.05 under $3, $0.10 from $3 up. */
export function tickSize(price: number): number {
  return price < 3 ? 0.05 : 0.1;
}

/** Largest multiple of `tick` at or below x, in cents. */
export function floorToTick(x: number, tick: number): number {
  return roundTo(Math.floor(x / tick + 1e-9) * tick, 2);
}

/** Smallest multiple of `tick` at or above x, in cents. */
export function ceilToTick(x: number, tick: number): number {
  return roundTo(Math.ceil(x / tick - 1e-9) * tick, 2);
}
