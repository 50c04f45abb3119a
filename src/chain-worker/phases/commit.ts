/**
 * @module Phase "promote or refresh": makes what was written the active epoch. A promotion flips
 * `epoch:active` (fenced), records the timeline and retires the superseded epoch (pruning the raw keys of
 * contracts that left the chain — never after a partial snapshot); a refresh or merge checks that the
 * epoch is still active and the lease still ours (fenced, in one script). Either way the epoch is flagged
 * dirty for the model builders.
 */
import { EpochLostError } from '../../wiring/epoch-store.js';
import { buildPruneWrites } from '../../wiring/snapshot-writes.js';
import type { CycleDeps, CycleState } from './context.js';

/** What a commit replaced: the previous epoch of a promotion and its contract ids (when its index was still there). */
export interface CommitOutcome {
  prevEpochId: string | null;
  prevIds: string[] | null;
}

export async function commitPhase(deps: CycleDeps, s: CycleState): Promise<CommitOutcome> {
  const { keys, bus, epochs, logger, metrics } = deps;
  const { snapshot, norm, plan } = s;
  const { decision, epochId } = plan;
  const underlying = snapshot.underlying;
  if (decision.action === 'promote') {
    if (bus.isCluster && bus.generation !== plan.generation)
      throw new EpochLostError('Redis reconnected while writing the epoch');
    let prev: string | null;
    try {
      prev = await epochs.flip(underlying, epochId, s.leaseValue);
    } catch (err) {
      // Not promoted (fenced, or Redis lost the epoch's keys): let the meta we wrote expire.
      epochs.retireUnawaited(epochId);
      throw err;
    }
    const retired = prev ?? decision.prevEpochId;
    const superseded = retired && retired !== epochId ? retired : null;
    // The timeline, sent with the next step (the superseded index's read, or the dirty flag when nothing
    // is superseded): one round trip on a single server.
    const timeline = epochs.appendTimeline(underlying, epochId);
    let prevIds: string[] | null = null;
    if (superseded) {
      // Read even after a partial snapshot (the geometry change needs it); only the prune skips it then.
      [, prevIds] = await Promise.all([timeline, epochs.contractIds(superseded)]);
      await epochs.retire(superseded);
      if (prevIds && !snapshot.partial) {
        const current = new Set(norm.geometry.ids);
        await bus.writeBulk(
          buildPruneWrites(
            keys,
            underlying,
            prevIds.filter((id) => !current.has(id)),
          ),
        );
      }
      await epochs.markDirty(epochId);
    } else await Promise.all([timeline, epochs.markDirty(epochId)]);
    metrics.promotions.inc({ symbol: underlying, reason: decision.reason });
    logger.info(
      { symbol: underlying, epochId, prev: retired, reason: decision.reason, contracts: norm.written.length },
      'epoch promoted',
    );
    return { prevEpochId: superseded, prevIds };
  } else if (!(await epochs.confirmActive(underlying, epochId, s.leaseValue))) {
    // The epoch refreshed in place stopped being active while we wrote (Redis restarted and lost it, or
    // another worker promoted): announce nothing, and retire the meta we just wrote so it expires. A lost
    // lease throws FencedError here: nothing is announced and the epoch, now another worker's, is left alone.
    epochs.retireUnawaited(epochId);
    throw new EpochLostError(`epoch ${epochId} is no longer active; its refresh is not announced`);
  }
  await epochs.markDirty(epochId);
  return { prevEpochId: null, prevIds: null };
}
