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
import type { EpochMeta } from '../../wiring/epoch-store.js';
import type { CycleDeps, CycleState } from './context.js';

/**
 * The contracts' writes: a merge renews the rest of the epoch and keeps its index whole; a full snapshot
 * writes every contract and the index (compressed on libuv's pool). On a single server, the writes the
 * page threads pre-encoded, the epoch id patched in, are returned (null on the other paths) as soon as they
 * are being sent; `sent` settles when Redis has answered them all.
 */
async function writeContracts(
  deps: CycleDeps,
  s: CycleState,
  ttl: WriteTtls,
): Promise<{ encoded: ReturnType<typeof encodedSnapshotWrites>; sent: Promise<void> }> {
  const { keys, bus } = deps;
  const { snapshot, norm, plan } = s;
  if (plan.split) {
    const sent = bus.writeBulk(buildMergeWrites(keys, snapshot.underlying, plan.split, plan.epochId, ttl));
    return { encoded: null, sent: sent.then(() => undefined) };
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
  const sent = encoded
    ? bus.writeEncoded(encoded)
    : bus.writeBulk(buildSnapshotWrites(keys, snapshot, norm.written, plan.epochId, ttl, index));
  return { encoded, sent: sent.then(() => undefined) };
}

/** The meta fields as Redis returns them (HGETALL): every value a string. */
function asStored(fields: Partial<EpochMeta>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]));
}

export async function writePhase(deps: CycleDeps, s: CycleState): Promise<void> {
  const { config, epochs } = deps;
  const { snapshot, norm, plan } = s;
  const ttl = { snapshotSec: config.snapshotTtlSec, substrateSec: config.substrateTtlSec };
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
  const { encoded, sent } = await writeContracts(deps, s, ttl);
  sent.catch(() => undefined); // awaited below, after the offer: a failure surfaces there
  try {
    // The builder of this process gets the substrates being written (the same bytes it would read back)
    // with the meta written after them, while Redis takes the writes: it may start the model maths now
    // (models/early-build.ts); nothing is published from them before the epoch is committed.
    if (encoded && deps.handoff && meta.last_refresh_ts !== undefined) {
      const bytes = await encodedSubstrateArray(norm.written, (c) => c.contract.encoded);
      const refreshTs = String(meta.last_refresh_ts);
      if (bytes) deps.handoff.offer(snapshot.underlying, plan.epochId, refreshTs, bytes, asStored(meta));
    }
  } finally {
    await sent;
  }
  await epochs.writeMeta(plan.epochId, meta);
}
