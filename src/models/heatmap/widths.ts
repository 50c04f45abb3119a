/** @module Heatmap widths: the per-symbol defaults and the clean-up applied to whatever is passed in. */
import { ascending } from '../../lib/compare.js';
import { isFiniteNumber } from '../json-safe.js';
import { priceKey } from './tiles.js';

/** Default widths (index points) per `{U}`: SPX 20..50 step 5; NDX 50, 100, 150, 200. */
export const DEFAULT_HEATMAP_WIDTHS = {
  SPX: [20, 25, 30, 35, 40, 45, 50],
  NDX: [50, 100, 150, 200],
} as const satisfies Record<string, readonly number[]>;

/**
 * Positive finite widths, distinct (to 0.001 point), ascending.
 *
 * @example
 * normalizeWidths([50, 20, 20, -5, NaN]); // [20, 50]
 */
export function normalizeWidths(widths: readonly number[]): number[] {
  const byKey = new Map<number, number>();
  for (const w of widths) {
    if (isFiniteNumber(w) && priceKey(w) > 0 && !byKey.has(priceKey(w))) byKey.set(priceKey(w), w);
  }
  return [...byKey.values()].sort(ascending);
}
