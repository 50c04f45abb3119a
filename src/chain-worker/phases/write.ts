/**
 * @module Phase "write": the bulk writes (raw snapshot keys, substrates, the contract index) and the
 * epoch meta. A promotion writes a new epoch that nothing points at yet; a refresh rewrites the active
 * one; a merge writes the fetched part of the active epoch and renews the rest.
 *
 * What overlaps, and what does not: the contract index is compressed (libuv's pool) while the contracts'
 * writes stream, and goes out right after them in the same batch; the substrates for the builder of this
 * process are gathered while Redis executes the writes (the main thread waits for replies then); a
 * promotion's meta goes out beside the bulk write (nothing points at the new epoch until the promote,
 * which checks that its meta and index exist); a refresh or merge writes the meta only once every
 * contract write is acknowledged, as before (readers of the active epoch take `last_refresh_ts` as the
 * version of its substrates).
 */
import { encodedSubstrateArray } from '../../wiring/encoded-substrates.js';
import { encodedSnapshotWrites, encodedWriteFitsBytes, type EncodedRef } from '../../wiring/page-writes.js';
import { CHEAP_SLICE, inSlices } from '../../lib/slices.js';
import { encodeContractIndex } from '../../wiring/contract-index.js';
import {
  buildMergeWrites,
  buildSnapshotWrites,
  contractIndexWrite,
  writtenId,
  type WriteTtls,
} from '../../wiring/snapshot-writes.js';
import { metaFieldsFor } from '../epoch-meta.js';
import type { EpochMeta } from '../../wiring/epoch-store.js';
import type { CycleDeps, CycleState } from './context.js';

/** The written contracts' ids, in order, and whether every one's encoded writes fit an id of `idBytes`. */
async function idsAndFit(
  written: CycleState['norm']['written'],
  idBytes: number,
): Promise<{ ids: string[]; fits: boolean }> {
  const out = { ids: new Array<string>(written.length), fits: true };
  await inSlices(written.length, (start, end) => idsSlice(out, written, idBytes, start, end), CHEAP_SLICE);
  return out;
}

/**
 * One slice of {@link idsAndFit}. A module-level function, not a closure made per cycle: a closure's
 * optimized code does not outlive the call, and every cycle compiled the loop again (lib/shape-anchors.ts).
 */
function idsSlice(
  out: { ids: string[]; fits: boolean },
  written: CycleState['norm']['written'],
  idBytes: number,
  start: number,
  end: number,
): void {
  for (let i = start; i < end; i++) {
    const w = written[i] as (typeof written)[number];
    out.ids[i] = writtenId(w);
    if (out.fits && !encodedWriteFitsBytes(w.contract.encoded, idBytes)) out.fits = false;
  }
}

/**
 * The contracts' writes: a merge renews the rest of the epoch and keeps its index whole; a full snapshot
 * writes every contract and the index (compressed on libuv's pool). On a single server, the writes the
 * page threads pre-encoded, the epoch id patched in, the index sent after them once compressed. Returns
 * the writes' acknowledgement, and whether they were the pre-encoded ones (their substrates can be handed
 * to the builder without normalizing again).
 */
async function writeContracts(
  deps: CycleDeps,
  s: CycleState,
  ttl: WriteTtls,
): Promise<{ done: Promise<void>; encoded: boolean }> {
  const { keys, bus } = deps;
  const { snapshot, norm, plan } = s;
  if (plan.split)
    return {
      done: bus.writeBulk(buildMergeWrites(keys, snapshot.underlying, plan.split, plan.epochId, ttl)),
      encoded: false,
    };
  // The ids and the check of every contract's encoded writes, in one pass of cheap slices (a field read
  // and a comparison per contract): they stand between the plan and the first byte to Redis, and in
  // slices of 1,000 took 1.5–10 ms of turns shared with the other symbol's (the performance log, 4 Dec
  // 05:23). All 20,000 at once, with the index's join, held the event loop 17–37 ms.
  const { ids, fits: encodedFit } = await idsAndFit(norm.written, Buffer.byteLength(plan.epochId));
  const index = encodeContractIndex(ids);
  const indexWrite = index.then((ix) => contractIndexWrite(keys, ix, plan.epochId, ttl));
  // Awaited by the bulk writer when it gets there (or never, on a fallback path or a lost connection).
  indexWrite.catch(() => undefined);
  const fits = !bus.isCluster && encodedFit;
  const encoded = fits
    ? encodedSnapshotWrites(norm.written, encodedOfContract, plan.epochId, indexWrite, { checked: true })
    : null;
  if (encoded) return { done: bus.writeEncoded(encoded), encoded: true };
  return {
    done: index.then((ix) =>
      bus.writeBulk(buildSnapshotWrites(keys, snapshot, norm.written, plan.epochId, ttl, ix)),
    ),
    encoded: false,
  };
}

/**
 * A contract's pre-encoded writes: a module function, one call target for every cycle (a closure made per
 * call was a new one each cycle for the loop that inlines it: lib/shape-anchors.ts).
 */
function encodedOfContract(c: CycleState['norm']['written'][number]['contract']): EncodedRef | undefined {
  return c.encoded;
}

/** The same for a written entry (the handoff's substrates), for the same reason. */
function encodedOfWritten(w: CycleState['norm']['written'][number]): EncodedRef | undefined {
  return w.contract.encoded;
}

export async function writePhase(deps: CycleDeps, s: CycleState): Promise<void> {
  const { config, epochs } = deps;
  const { snapshot, norm, plan } = s;
  const ttl = { snapshotSec: config.snapshotTtlSec, substrateSec: config.substrateTtlSec };
  const metaNow = (): Partial<EpochMeta> =>
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
    });
  const contracts = await writeContracts(deps, s, ttl);
  // A promotion's meta beside the bulk write: the new epoch is not announced until the promote.
  const promote = plan.decision.action === 'promote';
  const early = promote ? metaNow() : null;
  const metaSent = early ? epochs.writeMeta(plan.epochId, early) : null;
  // The builder of this process gets the substrates being written (the same bytes it would read back),
  // gathered in slices while Redis executes the writes.
  const handoff =
    contracts.encoded && deps.handoff
      ? encodedSubstrateArray(norm.written, encodedOfWritten)
      : Promise.resolve(null);
  let meta: Partial<EpochMeta>;
  try {
    // Every one settled, then the first failure in this order: the bulk write's, when it failed, is the one
    // reported (a meta written beside it fails for the same cause, an OOM or a lost connection, and says
    // less; with Promise.all whichever reply came first won, so the error a cycle reported varied by timing).
    const [written, sent, gathered] = await Promise.allSettled([contracts.done, metaSent, handoff]);
    for (const r of [written, sent, gathered]) if (r.status === 'rejected') throw r.reason;
    const bytes = gathered.status === 'fulfilled' ? gathered.value : null;
    if (early) meta = early;
    else {
      meta = metaNow();
      await epochs.writeMeta(plan.epochId, meta);
    }
    if (bytes && deps.handoff && meta.last_refresh_ts !== undefined)
      deps.handoff.offer(snapshot.underlying, plan.epochId, String(meta.last_refresh_ts), bytes);
  } catch (err) {
    // A promotion that failed to write may have left its meta: let it expire (the epoch never promotes).
    if (metaSent) epochs.retireUnawaited(plan.epochId);
    throw err;
  }
}
