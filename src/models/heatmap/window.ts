/** @module The strike window: which strikes may be butterfly centres and vertical long strikes. */
import { isFiniteNumber } from '../json-safe.js';
import type { HeatmapWindow } from '../types.js';

/** Keeps a strike on the window's edge inside despite float noise in `spot × pct`. */
const EDGE_SLACK = 1e-9;

/**
 * The usable window percent: a finite number ≥ 0, else 0 (every strike).
 *
 * @example
 * windowPctOf(5); // 5
 * windowPctOf(-1); // 0
 */
export function windowPctOf(pct: number): number {
  return isFiniteNumber(pct) && pct > 0 ? pct : 0;
}

/**
 * [spot·(1 − pct/100), spot·(1 + pct/100)], both edges included; null for pct 0 (no limit).
 *
 * @example
 * strikeWindow(6900, 5); // { low: 6555, high: 7245 }
 */
export function strikeWindow(spot: number, pct: number): HeatmapWindow | null {
  if (pct === 0) return null;
  const half = (spot * pct) / 100;
  return { low: spot - half, high: spot + half };
}

/** True when `strike` may be a centre / long strike; every strike when there is no window. */
export function inWindow(window: HeatmapWindow | null, strike: number): boolean {
  if (window === null) return true;
  const slack = EDGE_SLACK * Math.abs(strike);
  return strike >= window.low - slack && strike <= window.high + slack;
}
