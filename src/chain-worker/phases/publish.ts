/**
 * @module Phase "publish": the snapshot announcement on `massive:chain:snapshot` and the symbol's entry
 * of `massive:chain:latest`.
 */
import { unixSeconds } from '../../lib/time.js';
import { latestEntry } from '../../wiring/snapshot-writes.js';
import type { CycleDeps, CycleState } from './context.js';

/** The announcement on `massive:chain:snapshot` (times in Unix seconds); `contract_count` is what the epoch holds. */
export function snapshotAnnouncement(s: CycleState, ts: number): Record<string, unknown> {
  return {
    symbol: s.snapshot.underlying,
    epoch_id: s.plan.epochId,
    ts,
    as_of: unixSeconds(s.snapshot.asOf),
    expirations: s.snapshot.expirations,
    contract_count: s.plan.epochContractCount,
    health: s.norm.health,
    promoted: s.plan.decision.action === 'promote',
    partial: s.snapshot.partial,
    missing_expirations: s.norm.missingExpirations,
  };
}

export async function publishPhase(deps: CycleDeps, s: CycleState): Promise<void> {
  const { config, keys, bus } = deps;
  await bus.cmd.publish(keys.snapshotChannel, JSON.stringify(snapshotAnnouncement(s, unixSeconds())));
  if (config.latestMode !== 'off') {
    const entry = latestEntry({
      snapshot: s.snapshot,
      epochId: s.plan.epochId,
      health: s.norm.health,
      contractCount: s.norm.written.length,
      full: config.latestMode === 'full',
      written: s.norm.written,
    });
    await bus.scripts.mergeLatest(keys.latest, s.snapshot.underlying, entry);
  }
}
