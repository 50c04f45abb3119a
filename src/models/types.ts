/** @module The model builders' input and the published model JSON (GEX, heatmap): a public contract. */
import type { ContractSubstrate } from '../normalizers/substrate.js';
import type { ContractType } from '../provider/massive/types.js';

/** Version of the published JSON. Bump it on any change a reader could notice. */
export const MODEL_VERSION = 2;

/** What a model builder reads: one epoch of one underlying. */
export interface ModelInput {
  /** `{U}`, e.g. `SPX`. */
  symbol: string;
  epochId: string;
  /** Snapshot as-of, epoch ms: the clock for time to expiry. */
  asOf: number;
  /** Underlying spot; null (or not a positive finite number) still gives a valid model, with null levels. */
  spot: number | null;
  contracts: ContractSubstrate[];
  /** Publish time, epoch ms. */
  ts: number;
  stale: boolean;
  /** The epoch's latest write was a partial snapshot (default false). */
  partial?: boolean;
  /** Expirations (YYYY-MM-DD) whose stream did not complete in that write (default none). */
  missingExpirations?: readonly string[];
  /** Which provider produced the snapshot (`massive`, `sim`, `replay`); null when unknown. */
  provider?: ModelProvider | null;
}

/** Which provider produced a model's snapshot. */
export type ModelProvider = 'massive' | 'sim' | 'replay';

/** The heatmap's extra inputs. */
export interface HeatmapInput extends ModelInput {
  /** Butterfly wing / vertical widths in index points, e.g. SPX 20..50 step 5. */
  widths: readonly number[];
  /** Centres and long strikes lie within this percent of spot on each side; 0 = every strike. */
  windowPct: number;
  /** Each date's GEX levels, when the GEX model was built first: the density's probabilities use them. */
  levels?: ReadonlyMap<string, HeatmapLevels>;
}

/** Fields every published model starts with. */
export interface ModelHeader {
  version: typeof MODEL_VERSION;
  symbol: string;
  epoch_id: string;
  /** Publish time, ISO-8601 UTC (null only if the input time was not a valid instant). */
  ts: string | null;
  /** Snapshot as-of, ISO-8601 UTC (null only if the input time was not a valid instant). */
  as_of: string | null;
  /** Spot, or null when none was known. */
  spot: number | null;
  stale: boolean;
  /** Contracts in the epoch, used or not. */
  contract_count: number;
  /** The provider that produced the snapshot (null when the epoch does not say). */
  provider: ModelProvider | null;
  /**
   * True when the epoch's latest write was a partial snapshot: the contracts of `missing_expirations`
   * are as of the last complete snapshot.
   */
  partial: boolean;
  /** Expirations whose stream did not complete (empty unless `partial`). Last header field. */
  missing_expirations: string[];
  /** What the model was built from: the REST snapshot, or the snapshot hydrated by the stream. */
  live?: LiveInfo;
}

/** The `live` header: where a model's quotes and spot came from (see README, "Live chain"). */
export interface LiveInfo {
  /** `snapshot`: the REST snapshot as written; `stream`: hydrated with streamed quotes and spot. */
  source: 'snapshot' | 'stream';
  /** Where `spot` came from: the snapshot's underlying value or the stream's index value `V`. */
  spot_source: 'snapshot' | 'stream';
  /** Time of the newest streamed event applied, ISO-8601 UTC; null for a snapshot build. */
  last_tick_ts: string | null;
  /** Contracts whose bid/ask/mid/IV come from a streamed quote. */
  streamed_contracts: number;
  /** Age of the applied quotes at build time (vendor time to publish time), ms; null without quotes. */
  quote_age_ms: { p50: number; p95: number } | null;
}

// ── GEX ───────────────────────────────────────────────────────────────────────

/**
 * Dealer exposures: GEX in US dollars per 1% move (puts carry the dealer sign, ≤ 0); vanna in US dollars
 * of delta per vol point; charm in US dollars of delta per calendar day; delta in US dollars.
 */
export interface GexTotals {
  net: number;
  calls: number;
  puts: number;
  /** Net vanna exposure (`units_vanna`). */
  vanna: number;
  /** Net charm exposure (`units_charm`). */
  charm: number;
  /** Net delta exposure from the vendor's delta (`units_delta`). */
  delta: number;
}

export interface GexStrikeRow {
  strike: number;
  call: number;
  /** ≤ 0: dealers are taken to be short puts. */
  put: number;
  /** `call + put` of the published (rounded) values. */
  net: number;
  /** Net vanna exposure at the strike (calls and puts). */
  vanna: number;
  /** Net charm exposure at the strike (calls and puts). */
  charm: number;
}

export interface GexLevels {
  /** Root of the net-GEX profile nearest to spot, to 0.01 index points. */
  zero_gamma: number | null;
  call_wall: number | null;
  put_wall: number | null;
  abs_gamma_strike: number | null;
}

export interface GexProfilePoint {
  /** Hypothetical underlying level, index points (0.01). */
  level: number;
  /** Net GEX at that level, US dollars per 1% (cents). */
  net: number;
}

/** One expiration date's GEX: the same rules as the all-expiration model, on that date's contracts. */
export interface GexExpiration {
  totals: GexTotals;
  levels: GexLevels;
  zero_gamma_roots: number[];
  by_strike: GexStrikeRow[];
  /** Net GEX of this date's contracts over [0.8 S, 1.2 S]. */
  profile: GexProfilePoint[];
}

/** Contracts left out, by reason. See docs/models.md for how each contract is counted. */
export interface GexExcluded {
  /** Not expired, gamma missing: left out of the GEX aggregates. */
  no_gamma: number;
  /** Not expired, open interest missing: left out of everything on the OI basis. */
  no_oi: number;
  /** Not expired, implied volatility missing: left out of the profile, vanna and charm. */
  no_iv: number;
  /** Not expired, the vendor's delta missing: left out of the delta exposure. */
  no_delta: number;
  /** Settled at or before as-of: left out of everything. */
  expired: number;
  /**
   * Unreadable identity (strike not positive, type not call/put, malformed expiration) or a value outside
   * its physical bound (docs/models.md, "Physical bounds"): left out of everything.
   */
  invalid: number;
}

/** Contracts that entered each computation. */
export interface GexIncluded {
  /** Gamma and weight: the GEX aggregates and walls. */
  aggregates: number;
  /** IV and weight: the profile, zero gamma, vanna and charm. */
  profile: number;
  /** Vendor delta and weight: the delta exposure. */
  delta: number;
}

/** GEX computed with another weight in place of open interest (same rules otherwise). */
export interface GexBasisView {
  totals: GexTotals;
  levels: GexLevels;
  zero_gamma_roots: number[];
  by_strike: GexStrikeRow[];
  included: GexIncluded;
  /** Usable contracts (not invalid, not expired) without that weight: left out. */
  no_weight: number;
}

/** Which expirations a horizon holds. */
export type GexHorizonName = '0dte' | 'next' | 'all';

export interface GexHorizon {
  /** The expiration dates it holds, ascending (none: a day without a 0DTE). */
  expirations: string[];
  totals: GexTotals;
  levels: GexLevels;
  /** Its share of the gross |GEX| (calls + |puts|) of all expirations, 0..1 (4 decimals). */
  share: number;
}

export interface GexModel extends ModelHeader {
  model: 'gex';
  /** The weight of this document: open interest. `by_basis` holds the others. */
  basis: 'oi';
  units: 'usd_per_1pct';
  units_vanna: 'usd_delta_per_vol_point';
  units_charm: 'usd_delta_per_day';
  units_delta: 'usd_delta';
  totals: GexTotals;
  levels: GexLevels;
  /** Every root found in [0.8 S, 1.2 S], ascending. */
  zero_gamma_roots: number[];
  /** All expirations, ascending strike. */
  by_strike: GexStrikeRow[];
  /** Keyed `YYYY-MM-DD`, ascending; roots sharing a date are merged. */
  by_expiration: Record<string, GexExpiration>;
  /** Net GEX over [0.8 S, 1.2 S], ascending level; empty without spot. */
  profile: GexProfilePoint[];
  /** Today's expiration (New York), the next one, and all. */
  horizons: Record<GexHorizonName, GexHorizon>;
  /** GEX with the day's volume in place of open interest. */
  by_basis: { volume: GexBasisView };
  excluded: GexExcluded;
  included: GexIncluded;
}

// ── heatmap ───────────────────────────────────────────────────────────────────

/** One leg of a tile's order. */
export interface TileLeg {
  strike: number;
  type: ContractType;
  /** Signed quantity: +1 = buy one, −2 = sell two. */
  qty: number;
}

/** One priced structure. */
export interface Tile {
  /** Net price from mids, US dollars per share (cents); negative = a credit. */
  value: number;
  legs: TileLeg[];
  /** e.g. `BUY 1 SPXW 16JAN26 6825/6850/6875 CALL BUTTERFLY @ 2.35 DEBIT`. */
  description: string;
}

/** `{strike: {width: tile}}`; keys are `String(number)` (6852.5 → "6852.5"). */
export type TilesByStrikeWidth = Record<string, Record<string, Tile>>;

export interface SingleTiles {
  call?: Tile;
  put?: Tile;
}

export interface HeatmapExpiration {
  /** The one root all tiles of this date are built from, e.g. `SPXW`. */
  root: string;
  settlement: 'AM' | 'PM';
  butterfly: { call: TilesByStrikeWidth; put: TilesByStrikeWidth };
  vertical: { call: TilesByStrikeWidth; put: TilesByStrikeWidth };
  /** `{strike: {call, put}}`. */
  single: Record<string, SingleTiles>;
  /** The risk-neutral density the call butterflies imply; null without enough quotes. */
  density: HeatmapDensity | null;
  /** Quotes that allow an arbitrage (stale or crossed): listed. */
  flags: HeatmapFlags;
}

/** One point of an implied density. */
export interface DensityPoint {
  strike: number;
  /** Probability per index point (normalised: integrates to 1 over the quoted strikes). */
  density: number;
  /** Probability of finishing at or below the strike (0..1). */
  cumulative: number;
}

/** The GEX levels of the same date, as the density's probabilities use them. */
export interface HeatmapLevels {
  zero_gamma: number | null;
  call_wall: number | null;
  put_wall: number | null;
}

export interface HeatmapDensity {
  source: 'call_butterflies';
  /** Unnormalised mass over the quoted strikes (≈ 1 when they cover the distribution; r = 0). */
  coverage: number;
  /** Narrowest-width call butterflies with a negative value (floored at 0 in the density). */
  negative_butterflies: number;
  /** Ascending strike, inside the heatmap window. */
  points: DensityPoint[];
  /** The date's GEX levels (null when the GEX model was not built with the heatmap). */
  levels: HeatmapLevels | null;
  probabilities: {
    /** Probability of finishing between the put wall and the call wall. */
    between_walls: number | null;
    /** Probability of finishing within 0.5 % of spot around zero gamma. */
    near_zero_gamma: number | null;
  };
}

/** A tile whose value no consistent set of prices allows. */
export interface ArbitrageFlag {
  type: 'call' | 'put';
  strike: number;
  width: number;
  value: number;
}

export interface HeatmapFlags {
  /** Butterflies with a negative value (a credit for a position that cannot lose). */
  negative_butterfly: ArbitrageFlag[];
  /** Verticals worth more than their width (more than they can ever pay). */
  vertical_over_width: ArbitrageFlag[];
}

export interface HeatmapWindow {
  low: number;
  high: number;
}

export interface HeatmapModel extends ModelHeader {
  model: 'heatmap';
  /** The widths used: positive, distinct, ascending. */
  widths: number[];
  window_pct: number;
  /** Strike range of centres / long strikes; null when every strike is used (window_pct 0). */
  window: HeatmapWindow | null;
  /** Keyed `YYYY-MM-DD`, ascending; only dates with at least one tile. */
  expirations: Record<string, HeatmapExpiration>;
  /** Arbitrage flags over every expiration, counted. */
  flags: { negative_butterfly: number; vertical_over_width: number };
}
