/** @module The net-GEX profile: net GEX recomputed with Black-Scholes gamma at hypothetical spot levels. */
import type { DealerSign } from './exposures.js';
import { anchorShape } from '../../lib/shape-anchors.js';

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
 * Below this exponent `Math.exp` is exactly 0 (e^−746 is under half the smallest double, 2^−1075 ≈
 * e^−745.13), so a term `w·exp(x)` is ±0 and adding it leaves a sum as it was: such terms are skipped
 * without changing a bit.
 */
export const EXP_ZERO_BELOW = -746;

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

/** `σ√t` of a contract: `a = 1 / volT`, `b = kernelB(strike, volT)`, `w = kernelW(sign, weight, volT)`. */
const volTOf = (iv: number, t: number): number => iv * Math.sqrt(t);
const kernelB = (strike: number, volT: number): number => -Math.log(strike) / volT + 0.5 * volT;
// 100 shares × 1% = 1.
const kernelW = (sign: DealerSign, weight: number, volT: number): number =>
  (sign * weight * INV_SQRT_2PI) / volT;

/** Precomputes the kernel; contracts with zero OI add nothing and are dropped. */
export function gammaProfileKernel(contracts: readonly ProfileContract[]): GammaProfileKernel {
  const used: ProfileContract[] = [];
  for (const c of contracts) if (c.oi > 0) used.push(c);
  const a = new Float64Array(used.length);
  const b = new Float64Array(used.length);
  const w = new Float64Array(used.length);
  for (let i = 0; i < used.length; i++) {
    const c = used[i] as ProfileContract;
    const volT = volTOf(c.iv, c.t);
    a[i] = 1 / volT;
    b[i] = kernelB(c.strike, volT);
    w[i] = kernelW(c.sign, c.oi, volT);
  }
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
  return kernelSum(kernel, Math.log(level)) * level;
}

/**
 * `Σ w·exp(−d²/2)` with `d = a·lnL + b`: {@link netGexAt}'s loop, in a function of its own. Why: V8
 * compiles a long loop while it runs (on-stack replacement) before the code after it has ever run; with
 * the multiplication after the loop in the same function, that code had no type feedback for it and was
 * thrown away at the end of every call (105 deoptimizations in one bench worker's model thread). The
 * products and their order are unchanged: the same bits.
 */
function kernelSum(kernel: GammaProfileKernel, lnL: number): number {
  const { size, a, b, w } = kernel;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const d = (a[i] as number) * lnL + (b[i] as number);
    const x = -0.5 * d * d;
    if (x < EXP_ZERO_BELOW) continue;
    sum += (w[i] as number) * Math.exp(x);
  }
  return sum;
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
 * The kernels of the OI and volume profiles over the union of their contracts, in input order: one
 * `a`, `b` per contract and both weights (0 where a contract is not in that basis). Filled by `add`.
 */
export class SharedKernel {
  size = 0;
  a: Float64Array;
  b: Float64Array;
  wo: Float64Array;
  wv: Float64Array;
  group: Int32Array;

  constructor(capacity: number) {
    this.a = new Float64Array(capacity);
    this.b = new Float64Array(capacity);
    this.wo = new Float64Array(capacity);
    this.wv = new Float64Array(capacity);
    this.group = new Int32Array(capacity);
  }

  /** Adds a contract (nothing when both weights are ≤ 0, as each basis's kernel drops it). */
  add(
    strike: number,
    sign: DealerSign,
    t: number,
    iv: number,
    oi: number,
    volume: number,
    group: number,
  ): void {
    const inOi = oi > 0;
    const inVol = volume > 0;
    if (!inOi && !inVol) return;
    const n = this.size++;
    const volT = volTOf(iv, t);
    this.a[n] = 1 / volT;
    this.b[n] = kernelB(strike, volT);
    this.wo[n] = inOi ? kernelW(sign, oi, volT) : 0;
    this.wv[n] = inVol ? kernelW(sign, volume, volT) : 0;
    this.group[n] = group;
  }
}

// A kernel lives for one build; the code of `add` and of the pass depends on its shape (lib/shape-anchors.ts).
anchorShape('gex.kernel', new SharedKernel(0));

/**
 * The OI profile at every level for the whole set and for each of `groups` groups (expiration dates), and
 * the volume profile of the whole set, in one pass: each contract's Gaussian term is computed once and
 * added, times its weight, to every sum it belongs to. Each sum adds the same products in the same order as
 * {@link netGexAt} over a kernel of that set alone (a zero weight adds nothing, as the kernel drops it, and
 * an exactly-zero term is skipped by both), so every value is bit for bit what a separate evaluation
 * gives: the overall profile is the per-date profiles' sum without a second pass, and the volume basis
 * costs no pass of its own.
 */
export function sharedKernelValues(
  kernel: SharedKernel,
  groups: number,
  levels: readonly number[],
): { all: number[]; byGroup: number[][]; volume: number[] } {
  const points = levels.length;
  const lnL = new Float64Array(points);
  for (let j = 0; j < points; j++) lnL[j] = Math.log(levels[j] as number);
  const sumOi = new Float64Array(points);
  const sumVol = new Float64Array(points);
  const sums = new Float64Array(groups * points);
  addKernelTerms(kernel, lnL, sumOi, sums, sumVol);
  const all: number[] = [];
  const volume: number[] = [];
  const byGroup: number[][] = Array.from({ length: groups }, () => []);
  for (let j = 0; j < points; j++) {
    const level = levels[j] as number;
    all.push((sumOi[j] as number) * level);
    volume.push((sumVol[j] as number) * level);
    for (let g = 0; g < groups; g++) (byGroup[g] as number[]).push((sums[g * points + j] as number) * level);
  }
  return { all, byGroup, volume };
}

/**
 * {@link sharedKernelValues}'s pass: adds every contract's terms into the sums at each level of `lnL`
 * (`sums` holds the groups' sums, level by level within each group). A function of its own so that the
 * code compiled while the loop runs ends with the loop (see `kernelSum`).
 */
function addKernelTerms(
  kernel: SharedKernel,
  lnL: Float64Array,
  sumOi: Float64Array,
  sums: Float64Array,
  sumVol: Float64Array,
): void {
  const { size: n, a, b, wo, wv, group } = kernel;
  const points = lnL.length;
  // Contract by contract, each level's sums still receive the contracts in input order (the order
  // netGexAt adds them in); the contract's constants stay in registers across the levels.
  for (let i = 0; i < n; i++) {
    const ai = a[i] as number;
    const bi = b[i] as number;
    const w = wo[i] as number;
    const v = wv[i] as number;
    const off = (group[i] as number) * points;
    for (let j = 0; j < points; j++) {
      const d = ai * (lnL[j] as number) + bi;
      const x = -0.5 * d * d;
      if (x < EXP_ZERO_BELOW) continue;
      const e = Math.exp(x);
      if (w !== 0) {
        const term = w * e;
        sumOi[j] = (sumOi[j] as number) + term;
        sums[off + j] = (sums[off + j] as number) + term;
      }
      if (v !== 0) sumVol[j] = (sumVol[j] as number) + v * e;
    }
  }
}

/** {@link sharedKernelValues} of these contracts. */
export function sharedProfileValues(
  contracts: readonly SharedProfileContract[],
  groups: number,
  levels: readonly number[],
): { all: number[]; byGroup: number[][]; volume: number[] } {
  const kernel = new SharedKernel(contracts.length);
  for (const c of contracts) kernel.add(c.strike, c.sign, c.t, c.iv, c.oi, c.volume, c.group);
  return sharedKernelValues(kernel, groups, levels);
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
  const out = new Array<number>(points);
  for (let i = 0; i < points; i++) out[i] = i === points - 1 ? spot * (1 + range) : lo + i * step;
  return out;
}
