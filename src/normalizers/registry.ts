/**
 * @module Normalizes a whole snapshot: every contract through {@link normalizeContract}, rejections counted.
 *
 * One source of truth for what a model can use: the normalizer decides what is written (bounds.ts holds
 * the physical bounds), and each model builder decides, from what is written, what it can use and counts
 * the rest in its published `excluded` (GEX: `classifyForGex`; heatmap: `contractMid`). There is no second
 * per-model check here (the registry's `gex`/`heatmap` checks were counted but never read, and disagreed
 * with the builders).
 */
import type { ParsedContract } from '../provider/massive/types.js';
import { normalizeContract, type RejectReason } from './contract-normalizer.js';
import type { ContractSubstrate } from './substrate.js';

export interface NormalizeOutcome {
  records: ContractSubstrate[];
  /** Contracts the normalizer rejected (not written), by reason. */
  rejected: Partial<Record<RejectReason, number>>;
  rejectedCount: number;
}

/**
 * Runs every contract of a snapshot through the normalizer. Pure.
 *
 * @example
 * normalizeSnapshot(snapshot.contracts, { underlying: 'SPX', asOf: snapshot.asOf }).rejected; // { absurd_greek: 1 }
 */
export function normalizeSnapshot(
  contracts: readonly ParsedContract[],
  ctx: { underlying: string; asOf: number },
): NormalizeOutcome {
  const records: ContractSubstrate[] = [];
  const rejected: Partial<Record<RejectReason, number>> = {};
  let rejectedCount = 0;
  for (const c of contracts) {
    const res = normalizeContract(c, ctx);
    if (!res.ok) {
      rejected[res.reason] = (rejected[res.reason] ?? 0) + 1;
      rejectedCount++;
      continue;
    }
    records.push(res.record);
  }
  return { records, rejected, rejectedCount };
}
