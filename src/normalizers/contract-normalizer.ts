/**
 * @module The contract normalizer: vendor contract → {@link ContractSubstrate}, rejecting absurd values. Pure.
 */
import type { ParsedContract } from '../provider/massive/types.js';
import {
  MAX_ABS_DELTA,
  MAX_GAMMA_TIMES_STRIKE,
  MAX_IV,
  MAX_OPEN_INTEREST,
  MAX_PRICE,
  MAX_THETA_PER_STRIKE,
  MAX_VEGA_PER_STRIKE,
  MAX_VOLUME,
} from './bounds.js';
import { optionType, type ContractSubstrate } from './substrate.js';
import { unixSeconds } from '../lib/time.js';

export { MAX_OPEN_INTEREST } from './bounds.js';

export type RejectReason =
  | 'bad_number'
  | 'negative_price'
  | 'absurd_price'
  | 'absurd_oi'
  | 'absurd_volume'
  | 'absurd_greek'
  | 'crossed_quote';

/** A count (open interest, volume): a non-negative integer up to `max`. */
function countOk(v: number | null | undefined, max: number): boolean {
  return v === null || v === undefined || (v >= 0 && v <= max && Number.isInteger(v));
}

export type NormalizeResult = { ok: true; record: ContractSubstrate } | { ok: false; reason: RejectReason };

/** A number, or null when missing; `undefined` result means present but not a finite number. */
function num(v: unknown): number | null | undefined {
  if (v === undefined || v === null) return null;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Normalizes one parsed contract. Missing fields become null (never 0); present but non-finite numbers,
 * negative or absurd prices, OI or volume that is not a count up to its bound, and greeks outside the
 * physical bounds of bounds.ts reject the contract (docs/models.md, "Physical bounds").
 *
 * @example
 * normalizeContract(parsed, { underlying: 'SPX', asOf: Date.now() })
 */
export function normalizeContract(
  c: ParsedContract,
  ctx: { underlying: string; asOf: number },
): NormalizeResult {
  const f = c.fields;
  const bid = num(f.bid);
  const ask = num(f.ask);
  const midpoint = num(f.midpoint);
  const last = num(f.last);
  const delta = num(f.delta);
  const gamma = num(f.gamma);
  const theta = num(f.theta);
  const vega = num(f.vega);
  const iv = num(f.iv);
  const oi = num(f.oi);
  const volume = num(f.volume);
  const values = [bid, ask, midpoint, last, delta, gamma, theta, vega, iv, oi, volume];
  if (values.some((v) => v === undefined)) return { ok: false, reason: 'bad_number' };
  const prices = [bid, ask, midpoint, last];
  if (prices.some((v) => v != null && v < 0)) return { ok: false, reason: 'negative_price' };
  if (prices.some((v) => v != null && v > MAX_PRICE)) return { ok: false, reason: 'absurd_price' };
  if (!countOk(oi, MAX_OPEN_INTEREST)) return { ok: false, reason: 'absurd_oi' };
  if (!countOk(volume, MAX_VOLUME)) return { ok: false, reason: 'absurd_volume' };
  const k = c.strike;
  if (
    (delta != null && Math.abs(delta) > MAX_ABS_DELTA) ||
    (gamma != null && (gamma < 0 || gamma * k > MAX_GAMMA_TIMES_STRIKE)) ||
    (iv != null && (iv < 0 || iv > MAX_IV)) ||
    (vega != null && (vega < 0 || vega > MAX_VEGA_PER_STRIKE * k)) ||
    (theta != null && Math.abs(theta) > MAX_THETA_PER_STRIKE * k)
  ) {
    return { ok: false, reason: 'absurd_greek' };
  }
  if (bid != null && ask != null && bid > 0 && ask > 0 && bid > ask)
    return { ok: false, reason: 'crossed_quote' };

  let mid: number | null = midpoint ?? null;
  if (mid === null && bid != null && ask != null && bid > 0 && ask > 0) mid = (bid + ask) / 2;
  return {
    ok: true,
    record: {
      id: c.ticker,
      underlying: ctx.underlying,
      root: c.root,
      expiration: c.expiration,
      strike: c.strike,
      type: optionType(c.type),
      bid: bid ?? null,
      ask: ask ?? null,
      mid,
      last: last ?? null,
      delta: delta ?? null,
      gamma: gamma ?? null,
      theta: theta ?? null,
      vega: vega ?? null,
      iv: iv ?? null,
      oi: oi ?? null,
      volume: volume ?? null,
      ts: unixSeconds(ctx.asOf),
    },
  };
}
