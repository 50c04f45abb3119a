/** @module Heatmap tiles: butterflies, verticals and single options priced from mids on one root and type. */
import type { ContractType } from '../../provider/massive/types.js';
import type { Tile } from '../types.js';
import { orderPrefix, orderPrice, orderWhat } from './description.js';

/** Strikes and widths are keyed as integer thousandths, so 6852.5 − 20 finds 6832.5 without float noise. */
export function priceKey(x: number): number {
  return Math.round(x * 1000);
}

export interface Quote {
  strike: number;
  /** `String(strike)`: 6852.5 → "6852.5". */
  label: string;
  mid: number;
  /** The mid in integer thousandths of a dollar (a mid of two cent quotes is exact in thousandths). */
  milli: number;
}

/**
 * A price in integer thousandths of a dollar (a mid of two cent quotes is exact there).
 *
 * @example
 * milliOf((2.65 + 2.7) / 2); // 2675
 */
export function milliOf(price: number): number {
  return Math.round(price * 1000);
}

/** A quote for `strike` at `mid`. */
export function quote(strike: number, mid: number): Quote {
  return { strike, label: String(strike), mid, milli: milliOf(mid) };
}

/**
 * Integer thousandths → dollars to the cent, half away from zero, in integers (no float nudging):
 * −25 (−0.025) → −0.03, 25 → 0.03, 24 → 0.02.
 *
 * @example
 * centsOfMilli(1850 + 2125 - 2 * 2000); // −0.03
 */
export function centsOfMilli(milli: number): number {
  return centsIntOfMilli(milli) / 100 + 0;
}

/**
 * Integer thousandths → integer cents, half away from zero: what {@link centsOfMilli} gives, times 100.
 *
 * @example
 * centsIntOfMilli(-25); // −3
 */
export function centsIntOfMilli(milli: number): number {
  const c = Math.floor((Math.abs(milli) + 5) / 10);
  return milli < 0 ? -c : c;
}

/** The mids of one (expiration, root, type), keyed by {@link priceKey} of the strike. */
export type SideQuotes = ReadonlyMap<number, Quote>;

/** What every tile of one side shares, with the order-line pieces computed once. */
export interface SideContext {
  root: string;
  expiration: string;
  type: ContractType;
  prefix: string;
  butterfly: string;
  vertical: string;
  single: string;
}

/**
 * The context of one (root, expiration, type).
 *
 * @example
 * sideContext('SPXW', '2026-01-16', 'C').prefix; // 'BUY 1 SPXW 16JAN26 '
 */
export function sideContext(root: string, expiration: string, type: ContractType): SideContext {
  return {
    root,
    expiration,
    type,
    prefix: orderPrefix(root, expiration),
    butterfly: orderWhat(type, 'BUTTERFLY'),
    vertical: orderWhat(type, 'VERTICAL'),
    single: orderWhat(type, null),
  };
}

/** A structure's legs as the order lists them and its net value (cents); what tiles are made of. */
export interface Priced {
  legs: readonly Quote[];
  value: number;
  /** The value in integer cents (`value × 100`, exact). */
  cents: number;
}

/** A structure of `legs` worth `milli` thousandths, rounded to the cent. */
function priced(legs: readonly Quote[], milli: number): Priced {
  const cents = centsIntOfMilli(milli);
  return { legs, value: cents / 100 + 0, cents };
}

/** Leg quantities: a butterfly buys 1, sells 2, buys 1; a vertical buys 1, sells 1; a single buys 1. */
export const BUTTERFLY_QTY = [1, -2, 1] as const;
export const VERTICAL_QTY = [1, -1] as const;
export const SINGLE_QTY = [1] as const;

/**
 * Butterfly centred on `centre`, wings `width` away: buy K−w, sell 2 K, buy K+w, at
 * `mid(K−w) + mid(K+w) − 2·mid(K)`. Null when any leg has no mid.
 */
export function pricedButterfly(quotes: SideQuotes, centre: number, width: number): Priced | null {
  const k = priceKey(centre);
  const w = priceKey(width);
  const mid = quotes.get(k);
  const low = quotes.get(k - w);
  const high = quotes.get(k + w);
  if (mid === undefined || low === undefined || high === undefined) return null;
  return priced([low, mid, high], low.milli + high.milli - 2 * mid.milli);
}

/**
 * Vertical long `long`, `width` wide, both legs of the side's type: a call sells K+w (`mid(K) − mid(K+w)`),
 * a put sells K−w (`mid(K) − mid(K−w)`). Null when either leg has no mid.
 */
export function pricedVertical(
  quotes: SideQuotes,
  type: ContractType,
  long: number,
  width: number,
): Priced | null {
  const k = priceKey(long);
  const w = priceKey(width);
  const bought = quotes.get(k);
  const sold = quotes.get(type === 'C' ? k + w : k - w);
  if (bought === undefined || sold === undefined) return null;
  return priced([bought, sold], bought.milli - sold.milli);
}

/** One option at its mid. Null when it has no mid. */
export function pricedSingle(quotes: SideQuotes, strike: number): Priced | null {
  const q = quotes.get(priceKey(strike));
  return q === undefined ? null : priced([q], q.milli);
}

/** The tile of a priced structure: its legs with `qty`, and the order line with `what` (e.g. ' CALL BUTTERFLY'). */
export function tileOf(p: Priced, ctx: SideContext, qty: readonly number[], what: string): Tile {
  return {
    value: p.value,
    legs: p.legs.map((q, i) => ({ strike: q.strike, type: ctx.type, qty: qty[i] as number })),
    description: `${ctx.prefix}${p.legs.map((q) => q.label).join('/')}${what}${orderPrice(p.value)}`,
  };
}

/**
 * Butterfly tile ({@link pricedButterfly}).
 *
 * @example
 * butterflyTile(quotes, sideContext('SPXW', '2026-01-16', 'C'), 6850, 25);
 * // { value: 2.35, legs: [...], description: 'BUY 1 SPXW 16JAN26 6825/6850/6875 CALL BUTTERFLY @ 2.35 DEBIT' }
 */
export function butterflyTile(
  quotes: SideQuotes,
  ctx: SideContext,
  centre: number,
  width: number,
): Tile | null {
  const p = pricedButterfly(quotes, centre, width);
  return p === null ? null : tileOf(p, ctx, BUTTERFLY_QTY, ctx.butterfly);
}

/**
 * Vertical tile ({@link pricedVertical}).
 *
 * @example
 * verticalTile(quotes, sideContext('SPXW', '2026-01-16', 'P'), 6850, 25);
 * // description 'BUY 1 SPXW 16JAN26 6850/6825 PUT VERTICAL @ 8.10 DEBIT'
 */
export function verticalTile(quotes: SideQuotes, ctx: SideContext, long: number, width: number): Tile | null {
  const p = pricedVertical(quotes, ctx.type, long, width);
  return p === null ? null : tileOf(p, ctx, VERTICAL_QTY, ctx.vertical);
}

/**
 * One option at its mid ({@link pricedSingle}).
 *
 * @example
 * singleTile(quotes, sideContext('SPXW', '2026-01-16', 'C'), 6850);
 * // description 'BUY 1 SPXW 16JAN26 6850 CALL @ 41.20 DEBIT'
 */
export function singleTile(quotes: SideQuotes, ctx: SideContext, strike: number): Tile | null {
  const p = pricedSingle(quotes, strike);
  return p === null ? null : tileOf(p, ctx, SINGLE_QTY, ctx.single);
}
