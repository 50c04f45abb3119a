/**
 * @module The normalized contract substrate: what model builders read from `epoch:{id}:contract:{id}`.
 */
import type { ContractType } from '../provider/massive/types.js';

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
  type: ContractType;
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
  /** Snapshot as-of time, epoch ms. */
  ts: number;
}
