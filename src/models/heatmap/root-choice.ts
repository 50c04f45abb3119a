/** @module One root per expiration date: SPX (AM) and SPXW (PM) share the third Friday but never one structure. */
import { settlementStyle } from '../../domain/market-time.js';

/**
 * The root a date's tiles are built from, given each root's number of usable contracts on that date:
 * a PM-settled root (SPXW, NDXP) when there is one, else the AM-settled root (SPX, NDX); between roots
 * of one style, the one with more contracts, then the alphabetically first. Null for an empty map.
 *
 * @example
 * chooseRoot(new Map([['SPX', 400], ['SPXW', 380]])); // 'SPXW'
 * chooseRoot(new Map([['SPX', 400]])); // 'SPX'
 */
export function chooseRoot(countByRoot: ReadonlyMap<string, number>): string | null {
  let best: string | null = null;
  let bestPm = false;
  let bestCount = 0;
  for (const [root, count] of countByRoot) {
    const pm = settlementStyle(root) === 'PM';
    const better =
      best === null ||
      (pm && !bestPm) ||
      (pm === bestPm && (count > bestCount || (count === bestCount && root < best)));
    if (better) {
      best = root;
      bestPm = pm;
      bestCount = count;
    }
  }
  return best;
}
