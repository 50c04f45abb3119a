/**
 * @module Phase "write": the bulk writes (raw snapshot keys, substrates, the contract index) and the
 * epoch meta. A promotion writes a new epoch that nothing points at yet; a refresh rewrites the active
 * one; a merge writes the fetched part of the active epoch and renews the rest.
 */
import { encodedSubstrateArray } from '../../wiring/encoded-substrates.js';
import { encodedSnapshotWrites } from '../../wiring/page-writes.js';
import { encodeContractIndex } from '../../wiring/contract-index.js';
import {
  buildMergeWrites,
  buildSnapshotWrites,
  contractIndexWrite,
  writtenIds,
  type WriteTtls,
} from '../../wiring/snapshot-writes.js';
import { metaFieldsFor } from '../epoch-meta.js';
import type { CycleDeps, CycleState } from './context.js';

/**
 * The contracts' writes: a merge renews the rest of the epoch and keeps its index whole; a full snapshot
 * writes every contract and the index (compressed on libuv's pool). On a single server, the writes the
 * page threads pre-encoded, the epoch id patched in; returns them (null on the other paths).
 */
async function writeContracts(
  deps: CycleDeps,
  s: CycleState,
  ttl: WriteTtls,
): Promise<ReturnType<typeof encodedSnapshotWrites>> {
  const { keys, bus } = deps;
  const { snapshot, norm, plan } = s;
  if (plan.split) {
    await bus.writeBulk(buildMergeWrites(keys, snapshot.underlying, plan.split, plan.epochId, ttl));
    return null;
  }
  const index = await encodeContractIndex(writtenIds(norm.written));
  const encoded = bus.isCluster
    ? null
    : encodedSnapshotWrites(
        norm.written,
        (c) => c.encoded,
        plan.epochId,
        contractIndexWrite(keys, index, plan.epochId, ttl),
      );
  if (encoded) await bus.writeEncoded(encoded);
  else await bus.writeBulk(buildSnapshotWrites(keys, snapshot, norm.written, plan.epochId, ttl, index));
  return encoded;
}

export async function writePhase(deps: CycleDeps, s: CycleState): Promise<void> {
  const { config, epochs } = deps;
  const { snapshot, norm, plan } = s;
  const ttl = { snapshotSec: config.snapshotTtlSec, substrateSec: config.substrateTtlSec };
  const encoded = await writeContracts(deps, s, ttl);
  const meta = metaFieldsFor({
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
  });
  await epochs.writeMeta(plan.epochId, meta);
  // The builder of this process gets the substrates just written (the same bytes it would read back).
  if (encoded && deps.handoff && meta.last_refresh_ts !== undefined) {
    const bytes = await encodedSubstrateArray(norm.written, (c) => c.contract.encoded);
    if (bytes) deps.handoff.offer(snapshot.underlying, plan.epochId, String(meta.last_refresh_ts), bytes);
  }
}
