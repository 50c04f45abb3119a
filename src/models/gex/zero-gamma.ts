/** @module Zero gamma: the roots of the net-GEX profile, found by a grid scan then bisection. */

/** Bisection stops once the bracket is this narrow (index points), well inside the published 0.01. */
export const ROOT_TOLERANCE = 0.005;

/**
 * A root of `f` inside [lo, hi], where `flo` and `fhi` have opposite signs: bisection down to
 * `tolerance`, then linear interpolation inside the last bracket.
 */
export function bisectRoot(
  f: (x: number) => number,
  lo: number,
  flo: number,
  hi: number,
  fhi: number,
  tolerance = ROOT_TOLERANCE,
): number {
  while (hi - lo > tolerance) {
    const mid = 0.5 * (lo + hi);
    const fm = f(mid);
    // Exactly 0 (or an unusable value): the midpoint is as good an answer as any in the bracket.
    if (fm === 0 || !Number.isFinite(fm)) return mid;
    if (fm > 0 === flo > 0) {
      lo = mid;
      flo = fm;
    } else {
      hi = mid;
      fhi = fm;
    }
  }
  return lo + ((hi - lo) * flo) / (flo - fhi);
}

/**
 * Every sign change of `f` over a grid, refined by {@link bisectRoot}, ascending.
 *
 * `values[i]` must be `f(levels[i])`. Points where the profile is exactly 0 (underflow far from every
 * strike) carry no sign: a change is looked for between consecutive non-zero points, so a profile that
 * is 0 throughout has no root. Two roots closer than one grid step (no sign change at the grid points)
 * are not seen.
 *
 * @example
 * findRoots((x) => x * x - 2, [0, 1, 2], [-2, -1, 2]); // [1.41421…]
 */
export function findRoots(
  f: (x: number) => number,
  levels: readonly number[],
  values: readonly number[],
  tolerance = ROOT_TOLERANCE,
): number[] {
  const roots: number[] = [];
  let prev = -1;
  for (let i = 0; i < levels.length; i++) {
    const v = values[i] as number;
    if (v === 0 || !Number.isFinite(v)) continue;
    if (prev >= 0) {
      const pv = values[prev] as number;
      if (v > 0 !== pv > 0) {
        roots.push(bisectRoot(f, levels[prev] as number, pv, levels[i] as number, v, tolerance));
      }
    }
    prev = i;
  }
  return roots;
}

/**
 * The root nearest to spot (the lower one on a tie); null when there is none.
 *
 * @example
 * nearestRoot([6700, 6880, 7000], 6900); // 6880
 */
export function nearestRoot(roots: readonly number[], spot: number): number | null {
  let best: number | null = null;
  for (const r of roots) {
    if (best === null) {
      best = r;
      continue;
    }
    const d = Math.abs(r - spot);
    const dBest = Math.abs(best - spot);
    if (d < dBest || (d === dBest && r < best)) best = r;
  }
  return best;
}
