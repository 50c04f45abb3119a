/** @module The price a heatmap leg is marked at: the quote midpoint, never a made-up 0. */
import type { ContractSubstrate } from '../../normalizers/substrate.js';
import { MAX_PRICE } from '../../normalizers/bounds.js';
import { isFiniteNumber } from '../json-safe.js';

/**
 * The contract's mid: the substrate's `mid` (the vendor's `last_quote.midpoint`) when it is a positive
 * number, else `(bid + ask) / 2` when both are positive, else null (the tile using it is left out).
 * A mid of 0 is a missing quote, not a price; one over {@link MAX_PRICE} is corrupt and missing too.
 *
 * @example
 * contractMid({ ...c, mid: null, bid: 2.3, ask: 2.4 }); // 2.35
 * contractMid({ ...c, mid: null, bid: 0, ask: 0.05 }); // null
 */
export function contractMid(c: Pick<ContractSubstrate, 'mid' | 'bid' | 'ask'>): number | null {
  const ok = (x: number | null): x is number => isFiniteNumber(x) && x > 0 && x <= MAX_PRICE;
  if (ok(c.mid)) return c.mid;
  if (ok(c.bid) && ok(c.ask)) return (c.bid + c.ask) / 2;
  return null;
}
