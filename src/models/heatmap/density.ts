/**
 * @module The risk-neutral density an expiration's call butterflies imply (Breeden–Litzenberger, r = 0):
 * `f(K) ≈ (C(K−w) + C(K+w) − 2·C(K)) / w²`, on the narrowest width with quotes at each strike.
 */
import { ascending } from '../../lib/compare.js';
import { roundTo } from '../json-safe.js';
import type { DensityPoint, HeatmapDensity, HeatmapLevels, HeatmapWindow } from '../types.js';
import type { SideQuotes } from './tiles.js';

/** "Near zero gamma" is within this fraction of spot on each side of it. */
export const NEAR_ZERO_GAMMA = 0.005;

interface RawPoint {
  strike: number;
  f: number;
}

/** `f(K)` at each strike with wings quoted, on the narrowest such width; negative butterflies counted and floored at 0. */
function rawDensity(calls: SideQuotes): { points: RawPoint[]; negative: number } {
  const keys = [...calls.keys()].sort(ascending);
  const points: RawPoint[] = [];
  let negative = 0;
  for (let i = 1; i < keys.length - 1; i++) {
    const k = keys[i] as number;
    let best: number | null = null;
    for (const w of [k - (keys[i - 1] as number), (keys[i + 1] as number) - k]) {
      if (calls.has(k - w) && calls.has(k + w) && (best === null || w < best)) best = w;
    }
    if (best === null) continue;
    const fly =
      (calls.get(k - best)?.milli ?? 0) + (calls.get(k + best)?.milli ?? 0) - 2 * (calls.get(k)?.milli ?? 0);
    if (fly < 0) negative++;
    // Thousandths of a dollar over (thousandths of a point)²: ×1000 gives dollars per point².
    const f = (Math.max(fly, 0) * 1000) / (best * best);
    points.push({ strike: calls.get(k)?.strike ?? k / 1000, f });
  }
  return { points, negative };
}

/** Cumulative (trapezoids) at each point, unnormalised; the last value is the mass. */
function cumulative(points: readonly RawPoint[]): number[] {
  const out: number[] = [];
  let acc = 0;
  for (let i = 0; i < points.length; i++) {
    if (i > 0) {
      const p = points[i] as RawPoint;
      const q = points[i - 1] as RawPoint;
      acc += 0.5 * (p.f + q.f) * (p.strike - q.strike);
    }
    out.push(acc);
  }
  return out;
}

/** The normalised CDF at `x`, linear between points, held flat outside them. */
function cdfAt(points: readonly DensityPoint[], x: number): number {
  const first = points[0];
  const last = points.at(-1);
  if (first === undefined || last === undefined) return 0;
  if (x <= first.strike) return first.cumulative;
  if (x >= last.strike) return last.cumulative;
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((points[mid] as DensityPoint).strike <= x) lo = mid;
    else hi = mid;
  }
  const a = points[lo] as DensityPoint;
  const b = points[hi] as DensityPoint;
  return a.cumulative + ((x - a.strike) / (b.strike - a.strike)) * (b.cumulative - a.cumulative);
}

/** Probability of finishing in [lo, hi] under the normalised density; null when a bound is missing. */
function between(points: readonly DensityPoint[], lo: number | null, hi: number | null): number | null {
  if (lo === null || hi === null) return null;
  const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
  return roundTo(Math.max(0, cdfAt(points, b) - cdfAt(points, a)), 4);
}

/**
 * The density of one expiration from its call mids, normalised to 1 over the quoted strikes, with the
 * probabilities between the date's GEX levels when they are given. Null with fewer than two usable points
 * or no positive mass. Points are published inside `window` (the cumulative still runs over every strike).
 *
 * @example
 * callDensity(chain.calls, window, 6900, { put_wall: 6800, call_wall: 7000, zero_gamma: 6880 })?.probabilities;
 * // { between_walls: 0.61, near_zero_gamma: 0.08 }
 */
export function callDensity(
  calls: SideQuotes,
  window: HeatmapWindow | null,
  spot: number | null,
  levels: HeatmapLevels | null,
): HeatmapDensity | null {
  const { points: raw, negative } = rawDensity(calls);
  if (raw.length < 2) return null;
  const cum = cumulative(raw);
  const mass = cum.at(-1) as number;
  if (!(mass > 0) || !Number.isFinite(mass)) return null;
  // Loops, not callbacks made per build (lib/shape-anchors.ts).
  const all: DensityPoint[] = [];
  for (let i = 0; i < raw.length; i++) {
    const p = raw[i] as RawPoint;
    all.push({ strike: p.strike, density: p.f / mass, cumulative: (cum[i] as number) / mass });
  }
  const shown: DensityPoint[] = [];
  for (const p of all) {
    if (window !== null && !(p.strike >= window.low && p.strike <= window.high)) continue;
    shown.push({ strike: p.strike, density: roundTo(p.density, 8), cumulative: roundTo(p.cumulative, 6) });
  }
  const zg = levels?.zero_gamma ?? null;
  const near = spot === null || zg === null ? null : NEAR_ZERO_GAMMA * spot;
  return {
    source: 'call_butterflies',
    coverage: roundTo(mass, 4),
    negative_butterflies: negative,
    points: shown,
    levels,
    probabilities: {
      between_walls: between(all, levels?.put_wall ?? null, levels?.call_wall ?? null),
      near_zero_gamma: near === null || zg === null ? null : between(all, zg - near, zg + near),
    },
  };
}
