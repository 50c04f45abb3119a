/**
 * @module The contract normalizer: vendor contract → {@link ContractSubstrate}, rejecting absurd values. Pure.
 */
import type { ParsedContract } from '../provider/massive/types.js';
import { optionType, type ContractSubstrate } from './substrate.js';
import { unixSeconds } from '../lib/time.js';

/** Open interest above this is treated as corrupt (the largest real SPX strikes hold a few hundred thousand). */
export const MAX_OPEN_INTEREST = 50_000_000;

export type RejectReason = 'bad_number' | 'negative_price' | 'absurd_oi' | 'absurd_greek' | 'crossed_quote';

export type NormalizeResult = { ok: true; record: ContractSubstrate } | { ok: false; reason: RejectReason };

/** A number, or null when missing; `undefined` result means present but not a finite number. */
function num(v: unknown): number | null | undefined {
  if (v === undefined || v === null) return null;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Normalizes one parsed contract. Missing fields become null (never 0); present but non-finite numbers,
 * negative prices, OI over {@link MAX_OPEN_INTEREST} and impossible greeks reject the contract.
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
  const values = [bid, ask, midpoint, last, delta, gamma, theta, vega, iv, oi];
  if (values.some((v) => v === undefined)) return { ok: false, reason: 'bad_number' };
  if ([bid, ask, midpoint, last].some((v) => v !== null && v !== undefined && v < 0)) {
    return { ok: false, reason: 'negative_price' };
  }
  if (oi !== null && oi !== undefined && (oi < 0 || oi > MAX_OPEN_INTEREST || !Number.isInteger(oi))) {
    return { ok: false, reason: 'absurd_oi' };
  }
  if (
    (delta != null && Math.abs(delta) > 1.000001) ||
    (gamma != null && gamma < 0) ||
    (iv != null && (iv < 0 || iv > 20)) ||
    (vega != null && vega < 0)
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
      ts: unixSeconds(ctx.asOf),
    },
  };
}
