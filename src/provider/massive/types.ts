/**
 * @module Vendor (Massive, ex-Polygon) option-chain types and the typed snapshot the provider hands on.
 *
 * Every vendor field may be missing: `greeks: {}` deep in the money, no `implied_volatility`,
 * no `last_quote` on some plans. Index underlyings carry spot in `underlying_asset.value`.
 */
import type { EncodedRef } from '../../wiring/page-writes.js';

/** One result of `GET /v3/snapshot/options/{underlying}`, kept loose: it is stored verbatim. */
export interface RawContract {
  break_even_price?: number;
  day?: Record<string, unknown>;
  details?: {
    contract_type?: string;
    exercise_style?: string;
    expiration_date?: string;
    shares_per_contract?: number;
    strike_price?: number;
    ticker?: string;
  };
  fmv?: number;
  greeks?: { delta?: number; gamma?: number; theta?: number; vega?: number };
  implied_volatility?: number;
  last_quote?: {
    ask?: number;
    ask_size?: number;
    bid?: number;
    bid_size?: number;
    last_updated?: number;
    midpoint?: number;
    timeframe?: string;
  };
  last_trade?: { price?: number; size?: number; sip_timestamp?: number; [k: string]: unknown };
  open_interest?: number;
  underlying_asset?: {
    change_to_break_even?: number;
    last_updated?: number;
    price?: number;
    value?: number;
    ticker?: string;
    timeframe?: string;
  };
  [k: string]: unknown;
}

/** A page of the chain endpoint. */
export interface ChainPage {
  status?: string;
  request_id?: string;
  results?: RawContract[];
  next_url?: string;
}

/** Vendor error body: `{status, request_id, error | message}`. */
export interface VendorErrorBody {
  status?: string;
  request_id?: string;
  error?: string;
  message?: string;
}

export type ContractType = 'C' | 'P';

/**
 * The vendor values the worker reads, lifted out of the nested result as sent (not yet validated: the
 * normalizer does that), so the nested object can be dropped as soon as a page is parsed.
 */
export interface VendorFields {
  bid: unknown;
  ask: unknown;
  midpoint: unknown;
  last: unknown;
  delta: unknown;
  gamma: unknown;
  theta: unknown;
  vega: unknown;
  iv: unknown;
  oi: unknown;
  /** `day.volume`: contracts traded today. */
  volume: unknown;
  /** Newest of the quote, trade and underlying timestamps as sent (ns, ms or s), or null. */
  ts: number | null;
}

/** A contract whose identity parsed cleanly. */
export interface ParsedContract {
  /** The option ticker, e.g. `O:SPXW260107C06850000`: the contract id everywhere. */
  ticker: string;
  /** Root symbol from the ticker, e.g. `SPXW`. */
  root: string;
  /** YYYY-MM-DD. */
  expiration: string;
  type: ContractType;
  /** Exact strike (6852.5 stays 6852.5). */
  strike: number;
  fields: VendorFields;
  /** The vendor object (dropped after parsing when the fetch asks for `keepRaw: false` and bytes exist). */
  raw?: RawContract;
  /** The contract's bytes exactly as fetched (a slice of the page), when the page could be split. */
  rawJson?: Buffer;
  /** Its bulk writes, pre-encoded on the page thread (when the fetch asked for them). */
  encoded?: EncodedRef;
}

export interface ExpirationCount {
  expiration: string;
  contracts: number;
}

/** One fetched chain snapshot for one underlying. */
export interface ChainSnapshot {
  /** Configured symbol, e.g. `I:SPX`. */
  symbol: string;
  /** Symbol without the `I:` prefix, e.g. `SPX`: the `{U}` of every key. */
  underlying: string;
  /** As-of time (epoch ms): the fetch start on a live API, `recorded_at` in replay. */
  asOf: number;
  /** Underlying spot, or null when no source gave one. */
  spot: number | null;
  /** The first result's `underlying_asset`, as sent. */
  underlyingAsset: RawContract['underlying_asset'] | null;
  /** Newest vendor timestamp over all contracts (ns, ms or s as sent), or null. */
  newestVendorTs: number | null;
  /** The expirations requested, ascending (YYYY-MM-DD). */
  expirations: string[];
  /** How many expirations the chain lists up to the configured count (more than requested while capped). */
  listedExpirations?: number;
  contracts: ParsedContract[];
  pages: number;
  retries: number;
  /** Contracts skipped because they could not be parsed, by reason. */
  skipped: number;
  skippedReasons: Record<string, number>;
  /** True when some stream was capped, looped or failed: the snapshot is incomplete. */
  partial: boolean;
  partialReasons: string[];
  /** Wall time of the whole fetch (discovery included). */
  latencyMs: number;
  /** Pages and time spent discovering the expirations this cycle (0 when served from cache). */
  discovery: { pages: number; ms: number; cached: boolean };
}
