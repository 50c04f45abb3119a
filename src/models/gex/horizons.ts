/** @module GEX horizons: today's expiration (0DTE), the next one, and all of them. */
import { nyDate } from '../../domain/market-time.js';
import type { GexHorizon, GexHorizonName } from '../types.js';
import { zeroTotals } from './aggregates.js';
import { nullLevels, type GexView } from './view.js';

/** A horizon's share of the gross |GEX|, 0..1 to 4 decimals; 0 when there is no gross GEX at all. */
export function shareOf(part: number, whole: number): number {
  if (!(whole > 0) || !Number.isFinite(part)) return 0;
  return Math.round(Math.min(Math.max(part / whole, 0), 1) * 10_000) / 10_000;
}

/**
 * The expiration dates of each horizon: `0dte` is the date of `asOf` in New York (when any unexpired
 * contract settles that day), `next` the earliest date after it, `all` every date.
 *
 * @example
 * horizonDates(['2026-01-07', '2026-01-08', '2026-01-16'], Date.UTC(2026, 0, 7, 15));
 * // { '0dte': ['2026-01-07'], next: ['2026-01-08'], all: ['2026-01-07', '2026-01-08', '2026-01-16'] }
 */
export function horizonDates(dates: readonly string[], asOf: number): Record<GexHorizonName, string[]> {
  const all = [...dates].sort();
  const today = Number.isFinite(asOf) ? nyDate(asOf) : '';
  const later = all.find((d) => d > today);
  return {
    '0dte': all.filter((d) => d === today),
    next: later === undefined ? [] : [later],
    all,
  };
}

function horizon(expirations: string[], view: GexView | undefined, whole: number): GexHorizon {
  if (view === undefined) return { expirations, totals: zeroTotals(), levels: nullLevels(), share: 0 };
  return { expirations, totals: view.totals, levels: view.levels, share: shareOf(view.gross, whole) };
}

/**
 * The published horizons from the per-date views and the all-expiration view. `0dte` and `next` hold
 * one date each, so their totals and levels are that date's.
 */
export function gexHorizons(
  byDate: ReadonlyMap<string, GexView>,
  all: GexView,
  asOf: number,
): Record<GexHorizonName, GexHorizon> {
  const dates = horizonDates([...byDate.keys()], asOf);
  const one = (d: string[]): GexView | undefined => (d[0] === undefined ? undefined : byDate.get(d[0]));
  return {
    '0dte': horizon(dates['0dte'], one(dates['0dte']), all.gross),
    next: horizon(dates.next, one(dates.next), all.gross),
    all: { expirations: dates.all, totals: all.totals, levels: all.levels, share: all.gross > 0 ? 1 : 0 },
  };
}

/** Horizons without a spot: no dates carry GEX. */
export function emptyHorizons(): Record<GexHorizonName, GexHorizon> {
  return {
    '0dte': horizon([], undefined, 0),
    next: horizon([], undefined, 0),
    all: horizon([], undefined, 0),
  };
}
