/**
 * @module Phase "observe": tells the cycle observers (src/outputs) what the cycle applied. The event is
 * built from the cycle's own data (pure); a failing observer is logged and the cycle goes on.
 */
import { unixSeconds } from '../../lib/time.js';
import { notifyCycleObservers, type SnapshotApplied } from '../../outputs/observers.js';
import type { GeometryDelta } from '../geometry.js';
import { geometryChangeSliced } from '../sliced.js';
import { contractsOf } from '../../wiring/snapshot-writes.js';
import type { CommitOutcome } from './commit.js';
import type { CycleDeps, CycleState } from './context.js';

/**
 * The `snapshotApplied` event of a committed cycle. Pure: `geometry` is the promotion's change, computed by
 * the caller (in slices: it parses every id of both epochs), null otherwise.
 */
export function snapshotAppliedEvent(
  s: CycleState,
  commit: CommitOutcome,
  nowMs: number,
  geometry: GeometryDelta | null,
): SnapshotApplied {
  const { snapshot, norm, plan } = s;
  const d = plan.decision;
  const promoted = d.action === 'promote';
  return {
    symbol: snapshot.symbol,
    underlying: snapshot.underlying,
    epochId: plan.epochId,
    action: d.action,
    promoted,
    prevEpochId: commit.prevEpochId,
    reason: promoted ? d.reason : null,
    contractCount: plan.epochContractCount,
    contracts: contractsOf(norm.written),
    expirations:
      d.action === 'merge' ? (plan.activeExpirations ?? snapshot.expirations) : snapshot.expirations,
    geometry,
    health: norm.health,
    partial: snapshot.partial,
    missingExpirations: norm.missingExpirations,
    spot: snapshot.spot,
    asOf: unixSeconds(snapshot.asOf),
    ts: unixSeconds(nowMs),
  };
}

export async function observePhase(deps: CycleDeps, s: CycleState, commit: CommitOutcome): Promise<void> {
  const observers = deps.observers ?? [];
  if (!observers.some((o) => o.snapshotApplied !== undefined)) return;
  const geometry =
    s.plan.decision.action === 'promote' && commit.prevIds
      ? await geometryChangeSliced(commit.prevIds, s.norm.geometry.ids)
      : null;
  await notifyCycleObservers(
    observers,
    'snapshotApplied',
    snapshotAppliedEvent(s, commit, Date.now(), geometry),
    deps.logger,
  );
}
