/**
 * @module Phase "write": the bulk writes (raw snapshot keys, substrates, the contract index) and the
 * epoch meta. A promotion writes a new epoch that nothing points at yet; a refresh rewrites the active
 * one; a merge writes the fetched part of the active epoch and renews the rest.
 */
import { buildMergeWrites, buildSnapshotWrites } from '../../wiring/snapshot-writes.js';
import { metaFieldsFor } from '../epoch-meta.js';
import type { CycleDeps, CycleState } from './context.js';

export async function writePhase(deps: CycleDeps, s: CycleState): Promise<void> {
  const { config, keys, bus, epochs } = deps;
  const { snapshot, norm, plan } = s;
  const ttl = { snapshotSec: config.snapshotTtlSec, substrateSec: config.substrateTtlSec };
  await bus.writeBulk(
    plan.split
      ? buildMergeWrites(keys, snapshot.underlying, plan.split, plan.epochId, ttl)
      : buildSnapshotWrites(keys, snapshot, norm.written, plan.epochId, ttl),
  );
  await epochs.writeMeta(
    plan.epochId,
    metaFieldsFor({
      symbol: snapshot.underlying,
      decision: plan.decision,
      geometry: norm.geometry,
      contractCount: norm.written.length,
      expirations: snapshot.expirations,
      spot: snapshot.spot,
      asOf: snapshot.asOf,
      health: norm.health,
      writer: s.leaseValue,
      provider: config.provider,
      partial: snapshot.partial,
      missingExpirations: norm.missingExpirations,
      nowMs: Date.now(),
    }),
  );
}
