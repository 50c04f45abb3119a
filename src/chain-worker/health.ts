/**
 * @module Per-symbol, per-cycle health categories and the thresholds that set them. Pure.
 *
 * Precedence (first match wins): `failed` (the fetch failed; nothing published) → `empty` (no contracts)
 * → `partial` (a stream was capped, looped, cut by the deadline or failed) → `stale` (the newest quote is
 * older than CHAIN_STALE_AFTER_SEC at the as-of time) → `slow` (the fetch took longer than
 * CHAIN_SLOW_FETCH_MS) → `ok`.
 */

export const HEALTH_CATEGORIES = ['ok', 'partial', 'slow', 'empty', 'stale', 'failed'] as const;
export type HealthCategory = (typeof HEALTH_CATEGORIES)[number];

export interface HealthInput {
  failed: boolean;
  contractCount: number;
  partial: boolean;
  /** Seconds between the newest quote and the as-of time, or null when unknown. */
  stalenessSec: number | null;
  latencyMs: number;
}

export interface HealthThresholds {
  slowFetchMs: number;
  staleAfterSec: number;
}

export function classifyHealth(i: HealthInput, t: HealthThresholds): HealthCategory {
  if (i.failed) return 'failed';
  if (i.contractCount === 0) return 'empty';
  if (i.partial) return 'partial';
  if (i.stalenessSec !== null && i.stalenessSec > t.staleAfterSec) return 'stale';
  if (i.latencyMs > t.slowFetchMs) return 'slow';
  return 'ok';
}
