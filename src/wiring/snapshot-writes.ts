/**
 * @module Turns one normalized snapshot into the list of bulk writes (raw snapshot keys, substrates, the
 * contract index) and the symbol's summary in `massive:chain:latest`. Pure.
 */
import type { BulkCommand, BulkCommands } from '../redis/bus.js';
import type { KeySchema } from '../redis/keys.js';
import type { ContractSubstrate } from '../normalizers/substrate.js';
import type { ChainSnapshot, ParsedContract } from '../provider/massive/types.js';
import { parseOptionTicker } from '../provider/massive/ticker.js';
import { vendorBytes } from '../provider/massive/vendor-bytes.js';
import { unixSeconds } from '../lib/time.js';

/** A contract that passed normalization: its parsed form (raw bytes) and its substrate. */
export interface WrittenContract {
  contract: ParsedContract;
  record: ContractSubstrate;
}

export interface WriteTtls {
  snapshotSec: number;
  substrateSec: number;
}

/** The raw snapshot key of a contract. */
export function snapshotKeyOf(
  keys: KeySchema,
  underlying: string,
  c: Pick<ParsedContract, 'expiration' | 'type' | 'strike' | 'root'>,
): string {
  return keys.snapshot({
    underlying,
    expiration: c.expiration,
    type: c.type,
    strike: c.strike,
    root: c.root,
  });
}

/**
 * SET commands for every written contract — raw JSON under the snapshot key, the substrate under the
 * epoch — then the epoch's contract index. Lazy: each command (and its substrate JSON) is built when the
 * bulk writer pulls it, so a 20,000-contract burst never holds 40,000 encoded commands at once.
 */
export function buildSnapshotWrites(
  keys: KeySchema,
  snapshot: Pick<ChainSnapshot, 'underlying'>,
  written: readonly { contract: ParsedContract; record: ContractSubstrate }[],
  epochId: string,
  ttl: WriteTtls,
  /** The encoded contract index ({@link encodeContractIndex} of the written ids, in order). */
  index: Buffer,
): BulkCommands {
  const snapTtl = String(ttl.snapshotSec);
  const subTtl = String(ttl.substrateSec);
  return {
    length: written.length * 2 + 1,
    *[Symbol.iterator]() {
      for (const { contract, record } of written) {
        yield [
          'SET',
          snapshotKeyOf(keys, snapshot.underlying, contract),
          vendorBytes(contract),
          'EX',
          snapTtl,
        ];
        yield ['SET', keys.epochContract(epochId, contract.ticker), JSON.stringify(record), 'EX', subTtl];
      }
      yield contractIndexWrite(keys, index, epochId, ttl);
    },
  };
}

/** A written contract's id: what the contract index holds for it. */
export function writtenId(w: { contract: Pick<ParsedContract, 'ticker'> }): string {
  return w.contract.ticker;
}

/**
 * The written contracts' parsed contracts, in order. A loop in a module-level function rather than a
 * `map` with a closure made per cycle (whose optimized code would not outlive the call: lib/shape-anchors.ts).
 */
export function contractsOf(written: readonly WrittenContract[]): ParsedContract[] {
  const out = new Array<ParsedContract>(written.length);
  for (let i = 0; i < written.length; i++) out[i] = (written[i] as WrittenContract).contract;
  return out;
}

/** The ids of the written contracts, in order: what the contract index holds. */
export function writtenIds(written: readonly { contract: Pick<ParsedContract, 'ticker'> }[]): string[] {
  return written.map(writtenId);
}

/**
 * The epoch's contract index: `SET epoch:{id}:contracts {index} EX {substrate TTL}`, `index` encoded by
 * {@link encodeContractIndex} (wiring/contract-index.ts).
 */
export function contractIndexWrite(
  keys: KeySchema,
  index: Buffer,
  epochId: string,
  ttl: WriteTtls,
): BulkCommand {
  return ['SET', keys.epochContracts(epochId), index, 'EX', String(ttl.substrateSec)];
}

/**
 * The writes of a partial snapshot merged into the active epoch: raw key and substrate of each fetched
 * contract the epoch holds, the raw key alone of each fetched contract it does not hold, then TTL renewals
 * of the epoch's other contracts (substrate and raw key) and of its contract index, which stays whole.
 * Nothing is deleted. Lazy, like {@link buildSnapshotWrites}.
 */
export function buildMergeWrites(
  keys: KeySchema,
  underlying: string,
  split: { inside: readonly WrittenContract[]; outside: readonly WrittenContract[]; kept: readonly string[] },
  epochId: string,
  ttl: WriteTtls,
): BulkCommands {
  const snapTtl = String(ttl.snapshotSec);
  const subTtl = String(ttl.substrateSec);
  return {
    length: split.inside.length * 2 + split.outside.length + split.kept.length * 2 + 1,
    *[Symbol.iterator]() {
      for (const { contract, record } of split.inside) {
        yield ['SET', snapshotKeyOf(keys, underlying, contract), vendorBytes(contract), 'EX', snapTtl];
        yield ['SET', keys.epochContract(epochId, contract.ticker), JSON.stringify(record), 'EX', subTtl];
      }
      for (const { contract } of split.outside)
        yield ['SET', snapshotKeyOf(keys, underlying, contract), vendorBytes(contract), 'EX', snapTtl];
      for (const id of split.kept) {
        yield ['EXPIRE', keys.epochContract(epochId, id), subTtl];
        const p = parseOptionTicker(id);
        // An unparsable id has no raw key; renewing the substrate twice keeps the declared length exact.
        yield p
          ? ['EXPIRE', keys.snapshot({ underlying, ...p }), snapTtl]
          : ['EXPIRE', keys.epochContract(epochId, id), subTtl];
      }
      yield ['EXPIRE', keys.epochContracts(epochId), subTtl];
    },
  };
}

/** DEL commands for the raw snapshot keys of contracts that left the chain. */
export function buildPruneWrites(
  keys: KeySchema,
  underlying: string,
  vanishedIds: readonly string[],
): BulkCommand[] {
  const out: BulkCommand[] = [];
  for (const id of vanishedIds) {
    const p = parseOptionTicker(id);
    if (p) out.push(['DEL', keys.snapshot({ underlying, ...p })]);
  }
  return out;
}

/** EXPIRE commands keeping a fallback epoch's keys alive. */
export function buildKeepAliveWrites(
  keys: KeySchema,
  underlying: string,
  epochId: string,
  ids: readonly string[],
  ttl: WriteTtls,
): BulkCommand[] {
  const out: BulkCommand[] = [['EXPIRE', keys.epochContracts(epochId), String(ttl.substrateSec)]];
  for (const id of ids) {
    out.push(['EXPIRE', keys.epochContract(epochId, id), String(ttl.substrateSec)]);
    const p = parseOptionTicker(id);
    if (p) out.push(['EXPIRE', keys.snapshot({ underlying, ...p }), String(ttl.snapshotSec)]);
  }
  return out;
}

export interface LatestEntryInput {
  snapshot: ChainSnapshot;
  epochId: string;
  health: string;
  contractCount: number;
  written: readonly { contract: Pick<ParsedContract, 'expiration'> }[];
}

/**
 * One symbol's summary under `symbols` in `massive:chain:latest`, as compact JSON; `expirations` maps each
 * date to its contract count. (The contracts themselves are the document's `contracts`.)
 */
export function latestEntry(i: LatestEntryInput): string {
  const s = i.snapshot;
  const perExpiration: Record<string, number> = {};
  for (const e of s.expirations) perExpiration[e] = 0;
  for (const w of i.written)
    perExpiration[w.contract.expiration] = (perExpiration[w.contract.expiration] ?? 0) + 1;
  const underlyingAsset = s.underlyingAsset;
  const entry: Record<string, unknown> = {
    symbol: s.symbol,
    underlying: s.underlying,
    as_of: unixSeconds(s.asOf),
    spot: s.spot,
    epoch_id: i.epochId,
    health: i.health,
    contract_count: i.contractCount,
    pages: s.pages,
    retries: s.retries,
    skipped: s.skipped,
    partial: s.partial,
    expirations: perExpiration,
  };
  if (s.partialReasons.length > 0) entry.partial_reasons = s.partialReasons;
  if (underlyingAsset) entry.underlying_asset = underlyingAsset;
  return JSON.stringify(entry);
}
