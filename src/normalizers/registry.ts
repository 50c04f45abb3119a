/**
 * @module The normalizer registry: the worker feeds each snapshot through every registered normalizer.
 *
 * The seed names two, `gex` and `heatmap`. Each is a pure function from a parsed contract to the part of
 * the substrate it needs, or a rejection. A contract is written when at least the base contract
 * normalizer accepts it; each normalizer's rejections are counted (a contract without greeks is still
 * written for the heatmap, and counted as rejected by `gex`).
 */
import type { ParsedContract } from '../provider/massive/types.js';
import { normalizeContract } from './contract-normalizer.js';
import type { ContractSubstrate } from './substrate.js';

export interface Normalizer {
  name: string;
  /** Returns null when the contract is usable for this normalizer's model, else the reason. */
  check(record: ContractSubstrate): string | null;
}

/** GEX needs gamma and open interest (IV for the profile). */
export const gexNormalizer: Normalizer = {
  name: 'gex',
  check: (r) => (r.gamma === null ? 'no_gamma' : r.oi === null ? 'no_oi' : null),
};

/** The heatmap needs a mid. */
export const heatmapNormalizer: Normalizer = {
  name: 'heatmap',
  check: (r) => (r.mid === null ? 'no_mid' : null),
};

export const DEFAULT_NORMALIZERS: readonly Normalizer[] = [gexNormalizer, heatmapNormalizer];

export interface NormalizeOutcome {
  records: ContractSubstrate[];
  /** Contracts the base normalizer rejected (not written), by reason. */
  rejected: Record<string, number>;
  rejectedCount: number;
  /** Per normalizer: contracts written but unusable for that model, by reason. */
  unusable: Record<string, Record<string, number>>;
}

/** Runs every contract of a snapshot through the registry. Pure. */
export function normalizeSnapshot(
  contracts: readonly ParsedContract[],
  ctx: { underlying: string; asOf: number },
  normalizers: readonly Normalizer[] = DEFAULT_NORMALIZERS,
): NormalizeOutcome {
  const records: ContractSubstrate[] = [];
  const rejected: Record<string, number> = {};
  const unusable: Record<string, Record<string, number>> = {};
  for (const n of normalizers) unusable[n.name] = {};
  let rejectedCount = 0;
  for (const c of contracts) {
    const res = normalizeContract(c, ctx);
    if (!res.ok) {
      rejected[res.reason] = (rejected[res.reason] ?? 0) + 1;
      rejectedCount++;
      continue;
    }
    for (const n of normalizers) {
      const why = n.check(res.record);
      if (why !== null) {
        const bucket = unusable[n.name] as Record<string, number>;
        bucket[why] = (bucket[why] ?? 0) + 1;
      }
    }
    records.push(res.record);
  }
  return { records, rejected, rejectedCount, unusable };
}
