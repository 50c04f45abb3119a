/**
 * @module Whether a snapshot refreshes the active epoch in place, refreshes part of it (a partial
 * snapshot), or promotes a new one. Pure.
 */

export interface ActiveEpochView {
  id: string;
  geometryHash: string;
  status: string;
}

export type PromoteReason = 'first' | 'geometry' | 'recovery' | 'meta_missing' | 'index_missing';

export type EpochDecision =
  | { action: 'refresh'; epochId: string }
  /**
   * A partial snapshot inside the active epoch: its geometry and every other contract are kept. `dormant`:
   * the epoch is dormant and stays so (only a complete snapshot recovers it).
   */
  | { action: 'merge'; epochId: string; dormant: boolean }
  | { action: 'promote'; prevEpochId: string | null; forced: boolean; reason: PromoteReason };

export interface DecisionFacts {
  /** Some expiration stream did not complete (failed, capped, looped, cut by the deadline). */
  partial?: boolean;
  /** The active epoch's contract index still exists (only read for a partial snapshot). */
  activeIndex?: boolean;
}

/**
 * - no active epoch → promote (`first`), even from a partial snapshot;
 * - the active epoch's meta is gone (Redis lost it) → promote (`meta_missing`);
 * - a partial snapshot → merge into the active epoch (its geometry stands; a partial fetch is not a new
 *   geometry; a dormant epoch stays dormant), unless the epoch's contract index expired: then there is nothing to keep → promote
 *   (`index_missing`);
 * - the active epoch went dormant (fetches failed past the threshold) → promote a fresh epoch even with
 *   the same geometry (`recovery`, forced_dirty);
 * - different geometry → promote (`geometry`);
 * - same geometry → refresh values in place.
 */
export function decideEpoch(
  active: ActiveEpochView | null,
  activeId: string | null,
  geometryHash: string,
  facts: DecisionFacts = {},
): EpochDecision {
  if (activeId === null) return { action: 'promote', prevEpochId: null, forced: false, reason: 'first' };
  if (active === null)
    return { action: 'promote', prevEpochId: activeId, forced: false, reason: 'meta_missing' };
  if (facts.partial === true) {
    if (facts.activeIndex === false)
      return { action: 'promote', prevEpochId: active.id, forced: false, reason: 'index_missing' };
    return { action: 'merge', epochId: active.id, dormant: active.status === 'dormant' };
  }
  if (active.status === 'dormant')
    return { action: 'promote', prevEpochId: active.id, forced: true, reason: 'recovery' };
  if (active.geometryHash !== geometryHash) {
    return { action: 'promote', prevEpochId: active.id, forced: false, reason: 'geometry' };
  }
  return { action: 'refresh', epochId: active.id };
}
