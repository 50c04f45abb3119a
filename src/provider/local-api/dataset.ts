/**
 * @module What the local API serves from: a market dataset (the simulator or a recording) seen at an instant.
 *
 * The server reads `now()` once per chain walk, stores it in the cursor and passes it back on every later
 * page, so all pages of one walk describe the same market state even when the clock has moved on.
 */
import type { RawContract } from '../massive/types.js';

/** The contracts of one underlying (optionally one expiration) plus the underlying's snapshot. */
export interface ChainData {
  underlyingAsset: NonNullable<RawContract['underlying_asset']>;
  results: RawContract[];
}

/** Optional index session figures for `/v3/snapshot/indices`. */
export interface IndexSession {
  change: number;
  change_percent: number;
  close: number;
  high: number;
  low: number;
  open: number;
  previous_close: number;
}

export interface MarketDataset {
  /** The dataset's clock, epoch ms (sim: `Date.now()` or an injected clock; replay: `recorded_at`). */
  now(): number;
  /** Underlyings the dataset knows, e.g. `['I:SPX', 'I:NDX']`. */
  underlyings(): string[];
  /** Expirations (YYYY-MM-DD, ascending) listed for an underlying at `now`; [] if unknown or empty. Cheap. */
  expirations(underlying: string, now: number): string[];
  /**
   * Contracts of one expiration (raw vendor objects), or of all expirations when `expiration` is undefined;
   * null for an unknown underlying. Cached per (underlying, expiration, generation): callers may hold the
   * arrays but must not mutate them.
   */
  chain(underlying: string, now: number, expiration?: string): ChainData | null;
  /** Identifies the market state at `now` (sim: config version + tick index; replay: constant). */
  generation(now: number): string;
  /** Index level for `/v3/snapshot/indices` (e.g. `I:SPX`), or null when unknown. */
  indexValue(ticker: string, now: number): number | null;
  /** Session figures for an index at `now`, when the dataset can tell (the server falls back to flat ones). */
  indexSession?(ticker: string, now: number): IndexSession | null;
}

/** A dataset whose knobs can change at runtime (`POST /__admin/market`). */
export interface AdjustableDataset extends MarketDataset {
  /** Validates and applies a JSON patch of knobs; returns the resulting settings. Throws on invalid input. */
  adjust(patch: unknown): Record<string, unknown>;
  /** The current knobs. */
  settings(): Record<string, unknown>;
}

/** True when the dataset accepts runtime knob changes. */
export function isAdjustable(d: MarketDataset): d is AdjustableDataset {
  const a = d as Partial<AdjustableDataset>;
  return typeof a.adjust === 'function' && typeof a.settings === 'function';
}
