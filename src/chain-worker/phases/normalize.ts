/**
 * @module Phase "normalize": a fetched snapshot → the contracts to write (parsed contract + substrate),
 * the geometry they form, and the cycle's health. No Redis, no I/O: input and output are plain data, so
 * the phase can move to a worker thread as one call.
 */
import { isBurst } from '../cadence.js';
import type { Geometry } from '../geometry.js';
import { classifyHealth, type HealthCategory, type HealthThresholds } from '../health.js';
import { missingExpirations } from '../partial.js';
import { geometrySliced, normalizeSliced } from '../sliced.js';
import type { ContractSubstrate } from '../../normalizers/substrate.js';
import type { ChainSnapshot, ParsedContract } from '../../provider/massive/types.js';
import type { NormalizeOutcome } from '../../normalizers/registry.js';
import { inSlices } from '../../lib/slices.js';
import { AcceptedContract, encodedRejection, type EncodedRef } from '../../wiring/page-writes.js';
import { contractsOf, type WrittenContract } from '../../wiring/snapshot-writes.js';

export interface NormalizeInput {
  snapshot: ChainSnapshot;
  /** Contracts at or above which the cycle is a burst (a capped fetch: counted over the whole chain). */
  burstThreshold: number;
  thresholds: HealthThresholds;
}

export interface NormalizedSnapshot {
  /** Contracts accepted by the normalizer, in fetch order. */
  written: WrittenContract[];
  geometry: Geometry;
  /** Contracts not written (unparsable or rejected), total and by reason. */
  skipped: number;
  skippedReasons: Record<string, number>;
  burst: boolean;
  /** Seconds from the newest vendor timestamp to the as-of time, or null. */
  stalenessSec: number | null;
  health: HealthCategory;
  /** Expirations whose stream did not complete (empty for a complete snapshot). */
  missingExpirations: string[];
}

/** Seconds between the newest vendor timestamp (ns, ms or s as sent) and the as-of time. */
export function stalenessOf(newest: number | null, asOf: number): number | null {
  if (newest === null || newest <= 0) return null;
  const ms = newest > 1e15 ? newest / 1e6 : newest > 1e12 ? newest : newest * 1000;
  return Math.max(0, (asOf - ms) / 1000);
}

type Verdicts = Pick<NormalizeOutcome, 'rejected' | 'rejectedCount'> & { written: WrittenContract[] };

/**
 * The normalizer already ran on the page threads (each page's writes were encoded there): its verdicts,
 * in slices. Null when a contract came without them (a fetch that did not ask for encoded writes).
 */
async function verdictsOfPageThreads(
  contracts: readonly ParsedContract[],
  ctx: { underlying: string; asOf: number },
): Promise<Verdicts | null> {
  if (!allEncoded(contracts)) return null;
  const out: Verdicts = { written: [], rejected: {}, rejectedCount: 0 };
  await inSlices(contracts.length, (start, end) => verdictSlice(out, contracts, ctx, start, end));
  return out;
}

// The loops as module-level functions, not closures made per cycle: a closure's optimized code does not
// outlive the call, and every cycle compiled them again (lib/shape-anchors.ts).
function allEncoded(contracts: readonly ParsedContract[]): boolean {
  for (const c of contracts) if (c.encoded === undefined) return false;
  return true;
}

function verdictSlice(
  out: Verdicts,
  contracts: readonly ParsedContract[],
  ctx: { underlying: string; asOf: number },
  start: number,
  end: number,
): void {
  for (let i = start; i < end; i++) {
    const c = contracts[i] as ParsedContract;
    const reason = encodedRejection(c.encoded as EncodedRef);
    if (reason === null) out.written.push(new AcceptedContract(c, ctx));
    else {
      out.rejected[reason] = (out.rejected[reason] ?? 0) + 1;
      out.rejectedCount++;
    }
  }
}

/** Normalizes here (in slices): the written contracts in fetch order, with their substrates. */
async function normalizeHere(
  snapshot: ChainSnapshot,
  ctx: { underlying: string; asOf: number },
): Promise<Verdicts> {
  const norm = await normalizeSliced(snapshot.contracts, ctx);
  const byId = new Map<string, ContractSubstrate>();
  for (const r of norm.records) byId.set(r.id, r);
  const written: WrittenContract[] = [];
  for (const c of snapshot.contracts) {
    const record = byId.get(c.ticker);
    if (record) written.push({ contract: c, record });
  }
  return { written, rejected: norm.rejected, rejectedCount: norm.rejectedCount };
}

/**
 * Normalizes a snapshot. Normalizing and the geometry run in slices of 1,000 contracts with a turn of the
 * event loop between them (sliced.ts): a 20,000-contract symbol took 20–90 ms in one turn otherwise.
 */
export async function normalizePhase(input: NormalizeInput): Promise<NormalizedSnapshot> {
  const { snapshot } = input;
  const ctx = { underlying: snapshot.underlying, asOf: snapshot.asOf };
  const norm = (await verdictsOfPageThreads(snapshot.contracts, ctx)) ?? (await normalizeHere(snapshot, ctx));
  const written = norm.written;
  const geometry = await geometrySliced(contractsOf(written));
  const skippedReasons: Record<string, number> = { ...snapshot.skippedReasons };
  for (const [reason, n] of Object.entries(norm.rejected))
    skippedReasons[reason] = (skippedReasons[reason] ?? 0) + n;
  const stalenessSec = stalenessOf(snapshot.newestVendorTs, snapshot.asOf);
  const health = classifyHealth(
    {
      failed: false,
      contractCount: written.length,
      partial: snapshot.partial,
      stalenessSec,
      latencyMs: snapshot.latencyMs,
    },
    input.thresholds,
  );
  return {
    written,
    geometry,
    skipped: snapshot.skipped + norm.rejectedCount,
    skippedReasons,
    burst: isBurst({
      contracts: written.length,
      fetched: snapshot.expirations.length,
      listed: snapshot.listedExpirations,
      threshold: input.burstThreshold,
    }),
    stalenessSec,
    health,
    missingExpirations: snapshot.partial ? missingExpirations(snapshot.partialReasons) : [],
  };
}
