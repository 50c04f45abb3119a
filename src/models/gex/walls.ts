/** @module GEX walls: the call wall, the put wall and the absolute gamma strike, with a fixed tie-break. */
import { cents } from '../json-safe.js';
import type { GexStrikeRow } from '../types.js';

/** What a wall looks at in a strike row. */
export type WallRow = Pick<GexStrikeRow, 'strike' | 'call' | 'put'>;

export interface GexWalls {
  call_wall: number | null;
  put_wall: number | null;
  abs_gamma_strike: number | null;
}

/**
 * The strike whose `score` is largest. Scores are compared as published (to the cent) so the choice
 * does not hang on summation order; equal scores go to the strike nearest spot, then the lower one.
 * A strike needs a score above zero: no positive score → null.
 */
export function strikeWithLargest(
  rows: readonly WallRow[],
  spot: number,
  score: (row: WallRow) => number,
): number | null {
  let best: number | null = null;
  let bestScore = 0;
  for (const row of rows) {
    const s = cents(score(row));
    if (s <= 0) continue;
    if (best === null || s > bestScore) {
      best = row.strike;
      bestScore = s;
      continue;
    }
    if (s < bestScore) continue;
    const d = Math.abs(row.strike - spot);
    const dBest = Math.abs(best - spot);
    if (d < dBest || (d === dBest && row.strike < best)) best = row.strike;
  }
  return best;
}

/**
 * Walls over the published all-expiration rows.
 *
 * @example
 * gexWalls([{ strike: 6800, call: 5, put: -9, net: -4 }, { strike: 6900, call: 7, put: -1, net: 6 }], 6850);
 * // { call_wall: 6900, put_wall: 6800, abs_gamma_strike: 6800 }
 */
export function gexWalls(rows: readonly WallRow[], spot: number): GexWalls {
  return {
    call_wall: strikeWithLargest(rows, spot, callScore),
    put_wall: strikeWithLargest(rows, spot, putScore),
    abs_gamma_strike: strikeWithLargest(rows, spot, absScore),
  };
}

// The scores as module-level functions, not closures made per build (lib/shape-anchors.ts).
const callScore = (r: WallRow): number => r.call;
const putScore = (r: WallRow): number => -r.put;
const absScore = (r: WallRow): number => r.call - r.put;
