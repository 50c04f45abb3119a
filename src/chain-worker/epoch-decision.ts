/**
 * @module Whether a snapshot refreshes the active epoch in place or promotes a new one. Pure.
 */

export interface ActiveEpochView {
  id: string;
  geometryHash: string;
  status: string;
}

export type EpochDecision =
  | { action: 'refresh'; epochId: string }
  | {
      action: 'promote';
      prevEpochId: string | null;
      forced: boolean;
      reason: 'first' | 'geometry' | 'recovery' | 'meta_missing';
    };

/**
 * - no active epoch → promote (`first`);
 * - the active epoch's meta is gone (Redis lost it) → promote (`meta_missing`);
 * - the active epoch went dormant (fetches failed past the threshold) → promote a fresh epoch even with
 *   the same geometry (`recovery`, forced_dirty);
 * - different geometry → promote (`geometry`);
 * - same geometry → refresh values in place.
 */
export function decideEpoch(
  active: ActiveEpochView | null,
  activeId: string | null,
  geometryHash: string,
): EpochDecision {
  if (activeId === null) return { action: 'promote', prevEpochId: null, forced: false, reason: 'first' };
  if (active === null)
    return { action: 'promote', prevEpochId: activeId, forced: false, reason: 'meta_missing' };
  if (active.status === 'dormant')
    return { action: 'promote', prevEpochId: active.id, forced: true, reason: 'recovery' };
  if (active.geometryHash !== geometryHash) {
    return { action: 'promote', prevEpochId: active.id, forced: false, reason: 'geometry' };
  }
  return { action: 'refresh', epochId: active.id };
}
