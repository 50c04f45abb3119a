/**
 * @module The epoch meta fields one cycle writes, by what it does to the epoch. Pure.
 */
import { unixSeconds } from '../lib/time.js';
import type { EpochMeta } from '../wiring/epoch-store.js';
import type { EpochDecision } from './epoch-decision.js';
import type { Geometry } from './geometry.js';

export interface MetaWriteInput {
  /** `{U}`. */
  symbol: string;
  decision: EpochDecision;
  geometry: Geometry;
  /** Contracts written into the epoch (a promotion or a full refresh: all of its contracts). */
  contractCount: number;
  expirations: readonly string[];
  spot: number | null;
  /** Snapshot as-of, epoch ms (written in seconds, like every time). */
  asOf: number;
  health: string;
  writer: string;
  provider: string;
  partial: boolean;
  missingExpirations: readonly string[];
  /** Wall time of the write, epoch ms (written in seconds). */
  nowMs: number;
}

/**
 * - every write: refresh time, spot, as-of, health, writer, provider, `partial`, `missing_expirations`;
 *   a complete snapshot also sets `last_complete_ts` (seconds);
 * - a promotion or a full refresh: the geometry, counts and expirations, `dormant_count = 0`, `status =
 *   active`; a promotion adds `created_ts`, `forced_dirty`, `prev_epoch`;
 * - a merge (partial snapshot inside the active epoch): geometry, counts, expirations and status are left
 *   as they are; a successful cycle ends a run of failures, so `dormant_count = 0` unless the epoch is
 *   dormant (it stays dormant, with its count, until a complete snapshot recovers it):
 *   CHAIN_DORMANT_THRESHOLD counts failed cycles in a row.
 */
export function metaFieldsFor(i: MetaWriteInput): Partial<EpochMeta> {
  const fields: Partial<EpochMeta> = {
    symbol: i.symbol,
    last_refresh_ts: unixSeconds(i.nowMs),
    spot: i.spot === null ? '' : String(i.spot),
    as_of: unixSeconds(i.asOf),
    last_health: i.health,
    writer: i.writer,
    provider: i.provider,
    partial: i.partial ? 1 : 0,
    missing_expirations: JSON.stringify(i.missingExpirations),
  };
  if (!i.partial) fields.last_complete_ts = unixSeconds(i.nowMs);
  if (i.decision.action === 'merge') {
    if (!i.decision.dormant) fields.dormant_count = 0;
    return fields;
  }
  Object.assign(fields, {
    geometry_hash: i.geometry.hash,
    strike_count: i.geometry.strikeCount,
    expiration_count: i.geometry.expirationCount,
    contract_count: i.contractCount,
    expirations: JSON.stringify(i.expirations),
    dormant_count: 0,
    status: 'active',
  } satisfies Partial<EpochMeta>);
  if (i.decision.action === 'promote') {
    fields.created_ts = unixSeconds(i.nowMs);
    fields.forced_dirty = i.decision.forced ? 1 : 0;
    fields.prev_epoch = i.decision.prevEpochId ?? '';
  }
  return fields;
}
