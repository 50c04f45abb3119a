/**
 * @module Turns one vendor result into a {@link ParsedContract}, or a skip reason. Pure.
 */
import { parseOptionTicker } from './ticker.js';
import type { ParsedContract, RawContract, VendorFields } from './types.js';

export type SkipReason =
  'not_object' | 'no_ticker' | 'bad_ticker' | 'unknown_type' | 'bad_strike' | 'bad_expiration';

export type ParseResult = { ok: true; contract: ParsedContract } | { ok: false; reason: SkipReason };

/**
 * The ticker is the authority for identity (root, expiration, type, strike); `details`, when present,
 * must agree with it, or the contract is skipped rather than stored under a wrong key.
 */
export function parseContract(raw: unknown): ParseResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, reason: 'not_object' };
  const c = raw as RawContract;
  const details = c.details && typeof c.details === 'object' ? c.details : undefined;
  const ticker = details?.ticker ?? (typeof c.ticker === 'string' ? c.ticker : undefined);
  if (typeof ticker !== 'string' || ticker.length === 0) return { ok: false, reason: 'no_ticker' };
  const parts = parseOptionTicker(ticker);
  if (!parts) return { ok: false, reason: 'bad_ticker' };
  if (details) {
    const ct = details.contract_type;
    if (ct !== undefined && ct !== (parts.type === 'C' ? 'call' : 'put')) {
      return { ok: false, reason: ct === 'call' || ct === 'put' ? 'bad_ticker' : 'unknown_type' };
    }
    const sp = details.strike_price;
    if (sp !== undefined && (typeof sp !== 'number' || !(sp > 0) || Math.abs(sp - parts.strike) > 1e-6)) {
      return { ok: false, reason: 'bad_strike' };
    }
    const exp = details.expiration_date;
    if (exp !== undefined && exp !== parts.expiration) return { ok: false, reason: 'bad_expiration' };
  }
  return {
    ok: true,
    contract: {
      ticker,
      root: parts.root,
      expiration: parts.expiration,
      type: parts.type,
      strike: parts.strike,
      fields: vendorFields(c),
      raw: c,
    },
  };
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
}

/** Lifts the values the worker reads out of a vendor result. */
export function vendorFields(c: RawContract): VendorFields {
  const q = obj(c.last_quote);
  const t = obj(c.last_trade);
  const g = obj(c.greeks);
  const u = obj(c.underlying_asset);
  const day = obj(c.day);
  let ts: number | null = null;
  for (const v of [q?.last_updated, t?.sip_timestamp, u?.last_updated]) {
    if (typeof v === 'number' && Number.isFinite(v) && (ts === null || v > ts)) ts = v;
  }
  return {
    bid: q?.bid,
    ask: q?.ask,
    midpoint: q?.midpoint,
    last: t?.price,
    delta: g?.delta,
    gamma: g?.gamma,
    theta: g?.theta,
    vega: g?.vega,
    iv: c.implied_volatility,
    oi: c.open_interest,
    volume: day?.volume,
    ts,
  };
}

/** Spot from a result: index underlyings carry `value`, equities `price`. */
export function spotFromResult(raw: RawContract | undefined): number | null {
  const ua = raw?.underlying_asset;
  if (!ua || typeof ua !== 'object') return null;
  const v = ua.value ?? ua.price;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}
