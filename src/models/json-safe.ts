/** @module Rounding and guards so that no NaN, Infinity or -0 ever reaches a published model's JSON. */
import { medianStrike, plausibleSpot } from '../normalizers/bounds.js';
import type { ContractSubstrate } from '../normalizers/substrate.js';
import { MODEL_VERSION, type ModelHeader, type ModelInput } from './types.js';

/** Latest instant a JS Date can hold (±100,000,000 days). */
const MAX_DATE_MS = 8.64e15;

/**
 * Rounds half away from zero to `decimals` places; a value that is not finite becomes `fallback`.
 *
 * The `1 + EPSILON` nudge makes decimal halves that binary cannot hold exactly (2.345, 1.005) round up
 * as a reader expects; -0 comes out as 0.
 *
 * @example
 * roundTo(2.345, 2); // 2.35
 * roundTo(NaN, 2); // 0
 */
export function roundTo(x: number, decimals: number, fallback = 0): number {
  if (!Number.isFinite(x)) return fallback;
  const f = 10 ** decimals;
  const r = (Math.sign(x) * Math.round(Math.abs(x) * f * (1 + Number.EPSILON))) / f;
  return Number.isFinite(r) ? r + 0 : fallback;
}

/**
 * Money to the cent; 0 when not finite.
 *
 * @example
 * cents(1234.5678); // 1234.57
 */
export function cents(x: number): number {
  return roundTo(x, 2);
}

/**
 * A price level (strike, zero gamma, profile level) to 0.01 index points; null when missing or not finite.
 *
 * @example
 * level(6852.4999); // 6852.5
 * level(null); // null
 */
export function level(x: number | null | undefined): number | null {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  return roundTo(x, 2);
}

/** True when `x` is a finite number (not null, NaN or ±Infinity). */
export function isFiniteNumber(x: number | null | undefined): x is number {
  return x !== null && x !== undefined && Number.isFinite(x);
}

/** The spot a model can use: a positive finite number, else null. */
export function usableSpot(spot: number | null | undefined): number | null {
  return typeof spot === 'number' && Number.isFinite(spot) && spot > 0 ? spot : null;
}

/**
 * The spot a model can use: {@link usableSpot}, and plausible as an index level against the epoch's
 * strikes (bounds.ts: at most 10,000,000 and within a factor 10 of the median strike); else null.
 *
 * @example
 * modelSpot({ ...input, spot: 1e200 }); // null
 */
export function modelSpot(input: Pick<ModelInput, 'spot' | 'contracts'>): number | null {
  const spot = usableSpot(input.spot);
  if (spot === null) return null;
  // A loop, not a closure made per build (lib/shape-anchors.ts).
  const strikes = new Array<number>(input.contracts.length);
  for (let i = 0; i < strikes.length; i++) strikes[i] = (input.contracts[i] as ContractSubstrate).strike;
  return plausibleSpot(spot, medianStrike(strikes)) ? spot : null;
}

/**
 * Epoch ms → ISO-8601 UTC; null when it is not a valid instant (a Date would throw).
 *
 * @example
 * isoTime(0); // '1970-01-01T00:00:00.000Z'
 */
export function isoTime(ms: number): string | null {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : null;
}

/** The common fields of every published model, guarded. */
export function modelHeader(input: ModelInput): ModelHeader {
  const spot = modelSpot(input);
  return {
    version: MODEL_VERSION,
    symbol: input.symbol,
    epoch_id: input.epochId,
    ts: isoTime(input.ts),
    as_of: isoTime(input.asOf),
    spot: spot === null ? null : level(spot),
    stale: input.stale === true,
    contract_count: input.contracts.length,
    provider: input.provider ?? null,
    partial: input.partial === true,
    missing_expirations: [...(input.missingExpirations ?? [])],
  };
}
