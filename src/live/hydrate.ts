/**
 * @module Hydration: the active epoch's substrates brought to a live spot and live quotes. Pure.
 *
 * Per quoted contract: bid, ask and mid from the quote; IV solved from the mid at the live spot (no solution:
 * the snapshot IV stays, counted); greeks recomputed. Every contract not quoted keeps its snapshot IV (sticky
 * strike) and gets its greeks at the live spot, so the whole GEX profile moves with spot. Contracts without
 * an IV (deep in the money, `greeks: {}`) keep the snapshot's values. Time to expiry runs from `now`. Streamed
 * trades since the snapshot are added to its day volume (`volume`).
 */
import { blackScholes } from '../domain/black-scholes.js';
import { yearsToSettlement } from '../domain/market-time.js';
import type { ContractSubstrate } from '../normalizers/substrate.js';
import { impliedVol } from './implied-vol.js';

/** A contract's live quote as applied. */
export interface AppliedQuote {
  bid: number;
  ask: number;
  /** Vendor time, Unix ms. */
  t: number;
}

export interface HydrateInput {
  contracts: readonly ContractSubstrate[];
  quotes: ReadonlyMap<string, AppliedQuote>;
  /** Contracts traded on the stream since the snapshot: added to the snapshot's day volume. */
  volumes?: ReadonlyMap<string, number>;
  spot: number;
  /** The clock for time to expiry, epoch ms. */
  now: number;
}

export interface HydrateResult {
  contracts: ContractSubstrate[];
  /** Contracts with a live quote applied. */
  streamed: number;
  /** Quoted contracts whose mid gave no IV (snapshot IV kept). */
  ivUnsolved: number;
}

/** The mid of a quote: (bid + ask) / 2 when the ask is positive and not below the bid; else null. */
export function quoteMid(bid: number, ask: number): number | null {
  return ask > 0 && bid >= 0 && ask >= bid ? (bid + ask) / 2 : null;
}

/** Hydrates every contract (see the module comment). */
export function hydrate(input: HydrateInput): HydrateResult {
  const { spot, now, quotes } = input;
  const times = new Map<string, number>();
  let streamed = 0;
  let ivUnsolved = 0;
  const out = input.contracts.map((c): ContractSubstrate => {
    const tk = `${c.root}|${c.expiration}`;
    let t = times.get(tk);
    if (t === undefined) {
      t = yearsToSettlement(now, c.expiration, c.root);
      times.set(tk, t);
    }
    const side = (c.type as string) === 'call' || (c.type as string) === 'C' ? 'C' : 'P';
    const quote = quotes.get(c.id);
    let iv = c.iv;
    const next: ContractSubstrate = { ...c };
    const traded = input.volumes?.get(c.id);
    if (traded !== undefined && traded > 0) next.volume = (c.volume ?? 0) + traded;
    if (quote) {
      streamed++;
      const mid = quoteMid(quote.bid, quote.ask);
      next.bid = quote.bid;
      next.ask = quote.ask;
      next.mid = mid;
      next.ts = quote.t / 1000;
      if (mid !== null && t > 0) {
        const r = impliedVol({ side, spot, strike: c.strike, t, price: mid });
        if (r.ok) iv = r.iv;
        else ivUnsolved++;
      } else {
        ivUnsolved++;
      }
    }
    if (iv !== null && iv > 0 && t > 0 && spot > 0) {
      const g = blackScholes({ side, spot, strike: c.strike, t, iv });
      next.iv = iv;
      next.delta = g.delta;
      next.gamma = g.gamma;
      next.theta = g.theta;
      next.vega = g.vega;
    }
    return next;
  });
  return { contracts: out, streamed, ivUnsolved };
}

/** p50 and p95 of a list of numbers (nearest rank), or null when empty. */
export function percentiles(values: number[]): { p50: number; p95: number } | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? 0;
  return { p50: at(0.5), p95: at(0.95) };
}
