/**
 * @module Phase "publish": the snapshot announcement on `massive:chain:snapshot`; and phase "latest": the
 * symbol's part of `massive:chain:latest` and the document's assembly, run after the cycle released its
 * epoch to the model builder (so the multi-MB fragment and document never delay our models).
 */
import { unixSeconds } from '../../lib/time.js';
import {
  contractsFragmentInSlices,
  type ByteRange,
  type FragmentSource,
} from '../../wiring/chain-latest-doc.js';
import { vendorBytesRange } from '../../wiring/page-writes.js';
import { latestEntry } from '../../wiring/snapshot-writes.js';
import type { CycleDeps, CycleState } from './context.js';

/**
 * The written contracts' tickers and vendor bytes, as the latest fragment reads them: a class, so its
 * methods (inlined into the fragment's loops) are the same functions every cycle (see measureSlice).
 */
class WrittenVendorBytes implements FragmentSource {
  readonly count: number;
  constructor(private readonly written: CycleState['norm']['written']) {
    this.count = written.length;
  }
  ticker(i: number): string {
    return (this.written[i] as CycleState['norm']['written'][number]).contract.ticker;
  }
  bytes(i: number, into: ByteRange): void {
    vendorBytesRange((this.written[i] as CycleState['norm']['written'][number]).contract, into);
  }
}

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

/** The announcement on `massive:chain:snapshot`. */
export async function publishPhase(deps: CycleDeps, s: CycleState): Promise<void> {
  const { keys, bus } = deps;
  await bus.cmd.publish(keys.snapshotChannel, JSON.stringify(snapshotAnnouncement(s, unixSeconds())));
}

/**
 * The symbol's part of `massive:chain:latest` (summary; contracts with `CHAIN_LATEST_MODE=full`) and the
 * assembly of the whole document. A merged partial snapshot keeps the stored contracts and ticker set (it
 * never changes the geometry); only the summary moves. The cycle runs it after the handoff's release: a
 * reader may see an epoch's models (and MarketSwarm's outputs) before the document carries that epoch.
 */
export async function latestPhase(deps: CycleDeps, s: CycleState): Promise<void> {
  const { config } = deps;
  if (config.chainLatest === 'off') return;
  const written = s.norm.written;
  const merge = s.plan.decision.action === 'merge';
  const summary = latestEntry({
    snapshot: s.snapshot,
    epochId: s.plan.epochId,
    health: s.norm.health,
    contractCount: written.length,
    written,
  });
  const contracts = merge
    ? null
    : config.chainLatest === 'full'
      ? await contractsFragmentInSlices(new WrittenVendorBytes(written), undefined, (size) =>
          deps.latest.fragmentBuffer(s.snapshot.underlying, size),
        )
      : Buffer.alloc(0);
  await deps.latest.write({
    underlying: s.snapshot.underlying,
    summary,
    contracts,
    // The geometry's ids and hash: these tickers, already sorted (the store sorts them again, in one
    // pass) and hashed (hashing 20,000 tickers again took 2–4 ms in one turn).
    ...(merge ? { tickers: null } : { tickers: s.norm.geometry.ids, tickersHash: s.norm.geometry.sha1 }),
    ts: unixSeconds(),
    delta: config.compat === 'marketswarm',
    cycle: s.snapshot.symbol,
  });
}
