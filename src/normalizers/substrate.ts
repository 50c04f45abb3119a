/**
 * @module The normalized contract substrate: what model builders read from `epoch:{id}:contract:{id}`.
 */
import type { ContractType } from '../provider/massive/types.js';

/** The substrate's option type, spelled out (MarketSwarm's normalizers read this); raw keys keep `C`/`P`. */
export type OptionType = 'call' | 'put';

/**
 * The substrate spelling of a ticker's `C`/`P`.
 *
 * @example
 * optionType('C'); // 'call'
 */
export function optionType(t: ContractType): OptionType {
  return t === 'C' ? 'call' : 'put';
}

/** Compact per-contract record. Numbers the vendor did not send are null, never 0. */
export interface ContractSubstrate {
  /** Option ticker, e.g. `O:SPXW260107C06850000`. */
  id: string;
  /** `{U}`, e.g. `SPX`. */
  underlying: string;
  /** Root from the ticker, e.g. `SPXW` (decides AM/PM settlement). */
  root: string;
  /** YYYY-MM-DD. */
  expiration: string;
  strike: number;
  /** `"call"` or `"put"` (the ticker's `C`/`P` spelled out). */
  type: OptionType;
  bid: number | null;
  ask: number | null;
  /** `last_quote.midpoint`, else (bid + ask) / 2 when both are positive, else null. */
  mid: number | null;
  /** Last trade price. */
  last: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  iv: number | null;
  oi: number | null;
  /** The day's traded contracts (`day.volume`); null when the vendor sent none (no trade today, or no bar). */
  volume: number | null;
  /** Snapshot as-of time, Unix seconds (fractional to the ms), as every time in Redis. */
  ts: number;
}
