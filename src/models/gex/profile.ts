/** @module The net-GEX profile: net GEX recomputed with Black-Scholes gamma at hypothetical spot levels. */
import type { DealerSign } from './exposures.js';

/** What the profile needs of a contract: its IV and a weight (OI or volume). */
export interface ProfileContract {
  strike: number;
  sign: DealerSign;
  /** Years (of 365 days) from as-of to settlement, > 0. */
  t: number;
  iv: number;
  /** Open interest, or the day's volume on the volume basis. */
  oi: number;
}

/** Points of the published profile (and of the grid scanned for zero gamma). */
export const PROFILE_POINTS = 241;
/** The profile spans [0.8 S, 1.2 S]. */
export const PROFILE_RANGE = 0.2;

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Per-contract constants of the profile, precomputed once so each level is one tight loop.
 *
 * With r = q = 0, `Γ_BS(L) = φ(d1) / (L·σ√t)` and `d1 = (ln L − ln K)/(σ√t) + σ√t/2`, so a contract's
 * `s·Γ_BS(L)·OI·100·L²·0.01 = L · w · exp(−d1²/2)` with `d1 = a·ln L + b`, where
 * `a = 1/(σ√t)`, `b = −ln K/(σ√t) + σ√t/2` and `w = s·OI·100·0.01/(σ√t·√(2π))`.
 */
export interface GammaProfileKernel {
  readonly size: number;
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly w: Float64Array;
}

/** Precomputes the kernel; contracts with zero OI add nothing and are dropped. */
export function gammaProfileKernel(contracts: readonly ProfileContract[]): GammaProfileKernel {
  const used = contracts.filter((c) => c.oi > 0);
  const a = new Float64Array(used.length);
  const b = new Float64Array(used.length);
  const w = new Float64Array(used.length);
  used.forEach((c, i) => {
    const volT = c.iv * Math.sqrt(c.t);
    a[i] = 1 / volT;
    b[i] = -Math.log(c.strike) / volT + 0.5 * volT;
    // 100 shares × 1% = 1.
    w[i] = (c.sign * c.oi * INV_SQRT_2PI) / volT;
  });
  return { size: used.length, a, b, w };
}

/**
 * Net GEX (US dollars per 1%) if the underlying stood at `level`:
 * `Σ s·Γ_BS(level; K, t, iv)·OI·100·level²·0.01`.
 *
 * @example
 * const k = gammaProfileKernel([{ strike: 6900, sign: 1, t: 0.02, iv: 0.15, oi: 1000 }]);
 * netGexAt(k, 6900); // ≈ 1.2976e8 (Γ ≈ 0.002725 at the money)
 */
export function netGexAt(kernel: GammaProfileKernel, level: number): number {
  const { size, a, b, w } = kernel;
  const lnL = Math.log(level);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const d = (a[i] as number) * lnL + (b[i] as number);
    sum += (w[i] as number) * Math.exp(-0.5 * d * d);
  }
  return sum * level;
}

/** A contract of {@link sharedProfileValues}: both weights (0 = not in that basis) and its date's group. */
export interface SharedProfileContract {
  strike: number;
  sign: DealerSign;
  t: number;
  iv: number;
  /** Open interest (0: not in the OI profiles). */
  oi: number;
  /** The day's volume (0: not in the volume profile). */
  volume: number;
  /** Expiration-date group, 0 .. groups − 1. */
  group: number;
}

/**
 * The OI profile at every level for the whole set and for each of `groups` groups (expiration dates), and
 * the volume profile of the whole set, in one pass: each contract's Gaussian term is computed once and
 * added, times its weight, to every sum it belongs to. Each sum adds the same products in the same order as
 * {@link netGexAt} over a kernel of that set alone (a zero weight adds nothing, as the kernel drops it), so
 * every value is bit for bit what a separate evaluation gives: the overall profile is the per-date
 * profiles' sum without a second pass, and the volume basis costs no pass of its own.
 */
export function sharedProfileValues(
  contracts: readonly SharedProfileContract[],
  groups: number,
  levels: readonly number[],
): { all: number[]; byGroup: number[][]; volume: number[] } {
  const oi = gammaProfileKernel(contracts);
  const vol = gammaProfileKernel(contracts.map((c) => ({ ...c, oi: c.volume })));
  // Both kernels over the union, in input order, with a zero weight where a contract is not in one.
  const size = contracts.length;
  const a = new Float64Array(size);
  const b = new Float64Array(size);
  const wo = new Float64Array(size);
  const wv = new Float64Array(size);
  const group = new Int32Array(size);
  let io = 0;
  let iv = 0;
  let n = 0;
  for (const c of contracts) {
    const inOi = c.oi > 0;
    const inVol = c.volume > 0;
    if (!inOi && !inVol) continue;
    const src = inOi ? oi : vol;
    const j = inOi ? io : iv;
    a[n] = src.a[j] as number;
    b[n] = src.b[j] as number;
    wo[n] = inOi ? (oi.w[io++] as number) : 0;
    wv[n] = inVol ? (vol.w[iv++] as number) : 0;
    group[n] = c.group;
    n++;
  }
  const all: number[] = [];
  const volume: number[] = [];
  const byGroup: number[][] = Array.from({ length: groups }, () => []);
  const sums = new Float64Array(groups);
  for (const level of levels) {
    const lnL = Math.log(level);
    let sumOi = 0;
    let sumVol = 0;
    sums.fill(0);
    for (let i = 0; i < n; i++) {
      const d = (a[i] as number) * lnL + (b[i] as number);
      const e = Math.exp(-0.5 * d * d);
      const w = wo[i] as number;
      if (w !== 0) {
        const term = w * e;
        sumOi += term;
        const g = group[i] as number;
        sums[g] = (sums[g] as number) + term;
      }
      const v = wv[i] as number;
      if (v !== 0) sumVol += v * e;
    }
    all.push(sumOi * level);
    volume.push(sumVol * level);
    for (let g = 0; g < groups; g++) (byGroup[g] as number[]).push((sums[g] as number) * level);
  }
  return { all, byGroup, volume };
}

/**
 * Evenly spaced levels over [(1 − range)·spot, (1 + range)·spot], both ends included.
 *
 * @example
 * profileLevels(100, 5); // [80, 90, 100, 110, 120]
 */
export function profileLevels(spot: number, points = PROFILE_POINTS, range = PROFILE_RANGE): number[] {
  const lo = spot * (1 - range);
  const step = (2 * range * spot) / (points - 1);
  return Array.from({ length: points }, (_, i) => (i === points - 1 ? spot * (1 + range) : lo + i * step));
}
