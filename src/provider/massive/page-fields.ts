/**
 * @module Where a decoded page keeps each result's vendor fields (page-decode.ts): a row of numbers per
 * result in `nums` (the fields in {@link FIELD_NAMES}' order, then the strike and the spot the result
 * carries), and the values sent that are not numbers in a short side list, `odd`; reading a result's
 * fields back from them; and the codes of skipped results in `status`. Pure.
 */
import type { SkipReason } from './parse-contract.js';
import type { VendorFields } from './types.js';

/** The {@link VendorFields} carried as numbers, in this order (then `strike` and the result's spot). */
export const FIELD_NAMES = [
  'bid',
  'ask',
  'midpoint',
  'last',
  'delta',
  'gamma',
  'theta',
  'vega',
  'iv',
  'oi',
  'volume',
  'ts',
] as const satisfies readonly (keyof VendorFields)[];
/** How many of a result's numbers are its fields. */
export const NF = FIELD_NAMES.length;
/** Where a result's `ts`, strike and spot sit among its numbers. */
export const TS = NF - 1;
export const STRIKE = NF;
export const SPOT = NF + 1;
/** Numbers per result in a decoded page's `nums`. */
export const STRIDE = NF + 2;

/** A page's numbers, shared by its encoded contracts (each reads its row when asked). */
export interface FieldSource {
  nums: Float64Array;
  odd: [number, number, unknown][];
}

/** Result `i`'s {@link VendorFields}, from its page's row of numbers and its entries in `odd`. */
export function fieldsAt(page: FieldSource, i: number): VendorFields {
  const n = page.nums;
  const b = i * STRIDE;
  const fields: VendorFields = {
    bid: num(n[b]),
    ask: num(n[b + 1]),
    midpoint: num(n[b + 2]),
    last: num(n[b + 3]),
    delta: num(n[b + 4]),
    gamma: num(n[b + 5]),
    theta: num(n[b + 6]),
    vega: num(n[b + 7]),
    iv: num(n[b + 8]),
    oi: num(n[b + 9]),
    volume: num(n[b + 10]),
    ts: tsOf(n[b + TS]),
  };
  for (let k = firstOddOf(page.odd, i); k < page.odd.length; k++) {
    const [result, f, v] = page.odd[k] as [number, number, unknown];
    if (result !== i) break;
    (fields as unknown as Record<string, unknown>)[FIELD_NAMES[f] as string] = v;
  }
  return fields;
}

/** The first of `odd`'s entries for result `i` or later (`odd` is sorted by result). */
function firstOddOf(odd: readonly [number, number, unknown][], i: number): number {
  let lo = 0;
  let hi = odd.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((odd[mid] as [number, number, unknown])[0] < i) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function num(v: number | undefined): number | undefined {
  return v === undefined || Number.isNaN(v) ? undefined : v;
}

export function tsOf(v: number | undefined): number | null {
  return v === undefined || Number.isNaN(v) ? null : v;
}

/** A skipped result's reason, by code (1 + index) in a decoded page's `status`. */
export const SKIP_REASONS: readonly SkipReason[] = [
  'not_object',
  'no_ticker',
  'bad_ticker',
  'unknown_type',
  'bad_strike',
  'bad_expiration',
];
