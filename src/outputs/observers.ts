/**
 * @module Extension points for outputs: an output plugs in here instead of adding conditionals to the
 * cycle or the builder. Observers must not throw into the core: the caller logs and goes on.
 */
import { nextTurn } from '../lib/slices.js';
import type { GexLevelSummary } from '../models/build-models.js';
import type { SubstrateColumns } from '../models/substrate-columns.js';
import type { GeometryDelta } from '../chain-worker/geometry.js';
import type { ParsedContract } from '../provider/massive/types.js';

/** What a model build published (both models of one epoch). */
export interface ModelsPublished {
  /** `{U}`, e.g. `SPX`. */
  underlying: string;
  /** Vendor form, e.g. `I:SPX`. */
  symbol: string;
  epochId: string;
  /** Publish time, epoch ms (the model's `ts`). */
  ts: number;
  /** `snapshot`: built from a REST snapshot; `stream`: a live build (as on `massive:models`). */
  trigger: 'snapshot' | 'stream';
  /** The snapshot time the build is of, epoch ms. */
  asOf?: number;
  spot: number | null;
  /** The GEX levels of the build (all expirations, open interest). */
  levels?: GexLevelSummary;
  /** Our published model JSON. */
  models: { gex: Buffer; heatmap: Buffer };
}

/** The builder read an epoch's substrates and is about to build our models from them. */
export interface SubstratesRead {
  /** `{U}`, e.g. `SPX`. */
  underlying: string;
  /** Vendor form, e.g. `I:SPX`. */
  symbol: string;
  epochId: string;
  /** The snapshot time, epoch ms. */
  asOf: number;
  spot: number | null;
  /** The build's time, epoch ms (our models' `ts`). */
  ts: number;
  widths: readonly number[];
  windowPct: number;
  /** The fields of the substrates the output reads, as the model thread parsed them (shared: never transfer). */
  columns: SubstrateColumns;
}

export interface ModelObserver {
  readonly name: string;
  /**
   * When given, the builder hands it each epoch's substrate columns as soon as our models are built (the
   * model thread reads them from the substrates it parsed), and does not wait: the observer builds from them
   * on a thread of its own (MarketSwarm's outputs).
   */
  substratesRead?(e: SubstratesRead): void;
  modelsPublished(e: ModelsPublished): Promise<void>;
  /**
   * Resolves when the work this output queued is written. The builder's drain waits for it only from the
   * outputs that build from the substrates ({@link substratesRead}, MarketSwarm's); the others' queues (the
   * history's) run in the background, waited for by `ModelBuilder.idle()` only.
   */
  idle?(): Promise<void>;
  /**
   * Shutdown began: take no new work and drop what is queued (the work under way finishes). Called at the
   * signal, so a backlog is not worked through while the cycles in flight end; {@link close} follows.
   */
  quiesce?(): void;
  /** Finishes queued work and releases threads (whoever created the observer calls it once). */
  close?(): Promise<void>;
}

/** What a symbol's cycle did to its epoch: `promote` a new one, `refresh` it, or `merge` a partial snapshot. */
export type EpochAction = 'promote' | 'refresh' | 'merge';

/** The geometry change of a promotion against the epoch it replaced (empty lists when nothing moved). */
export type GeometryChange = GeometryDelta;

/**
 * One written contract as an output sees it: the parsed contract itself (no copy). Its vendor JSON exactly
 * as fetched is `vendorBytes` (provider/massive/vendor-bytes.ts).
 */
export type AppliedContract = Pick<
  ParsedContract,
  'ticker' | 'root' | 'expiration' | 'type' | 'strike' | 'rawJson' | 'raw'
>;

/**
 * A symbol's snapshot was written and its epoch promoted or refreshed (called once per successful cycle,
 * after the snapshot announcement). Times are Unix seconds.
 */
export interface SnapshotApplied {
  /** Vendor form, e.g. `I:SPX`. */
  symbol: string;
  /** `{U}`, e.g. `SPX`. */
  underlying: string;
  epochId: string;
  action: EpochAction;
  promoted: boolean;
  /** The epoch this promotion replaced (null: the first, or not a promotion). */
  prevEpochId: string | null;
  /** Why the epoch was promoted (`first`, `geometry`, `recovery`, `meta_missing`, `index_missing`); null otherwise. */
  reason: string | null;
  /** Contracts the epoch holds after this cycle. */
  contractCount: number;
  /**
   * Contracts this cycle fetched and wrote, in fetch order (a merge: the fetched part of the epoch, plus
   * any fetched contract outside its geometry, which was written as a raw key only).
   */
  contracts: readonly AppliedContract[];
  /** The epoch's expirations after this cycle (YYYY-MM-DD, ascending). */
  expirations: readonly string[];
  /** A promotion: what entered and left against the previous epoch (null otherwise, or no previous index). */
  geometry: GeometryChange | null;
  health: string;
  partial: boolean;
  missingExpirations: readonly string[];
  spot: number | null;
  /** Snapshot as-of, Unix seconds. */
  asOf: number;
  /** When the cycle finished writing, Unix seconds. */
  ts: number;
}

/** A symbol's health category changed between two cycles of this worker (`failed` included). */
export interface HealthChanged {
  symbol: string;
  underlying: string;
  epochId: string | null;
  from: string;
  to: string;
  ts: number;
}

/** A failed cycle turned the symbol's active epoch dormant (once per dormancy: at the threshold). */
export interface SymbolDormant {
  symbol: string;
  underlying: string;
  epochId: string | null;
  dormantCount: number;
  /** The failure that crossed the threshold (redacted message). */
  error: string;
  ts: number;
}

/** A dormant symbol's fetch succeeded again and a fresh epoch was promoted (reason `recovery`). */
export interface SymbolRecovered {
  symbol: string;
  underlying: string;
  epochId: string;
  prevEpochId: string | null;
  ts: number;
}

/** The worker is shutting down (the seed's "Aggregator notifies"). */
export interface WorkerShutdown {
  worker: string;
  /** `stopped` (signal, --once) or `faulty` (a controlled shutdown after a fault). */
  status: 'stopped' | 'faulty';
  reason: string;
  /** Symbols (`{U}`) the worker held, with their active epoch as this worker last wrote it. */
  symbols: { underlying: string; epochId: string | null }[];
  ts: number;
}

/**
 * Fed by the chain worker: the cycle calls `snapshotApplied`, the worker loop the rest. Every method is
 * optional; a rejection is logged by the caller and never fails the cycle.
 */
export interface CycleObserver {
  readonly name: string;
  snapshotApplied?(e: SnapshotApplied): Promise<void>;
  healthChanged?(e: HealthChanged): Promise<void>;
  dormant?(e: SymbolDormant): Promise<void>;
  recovered?(e: SymbolRecovered): Promise<void>;
  /** Called before the leases are released and the final heartbeat is written. */
  shutdown?(e: WorkerShutdown): Promise<void>;
}

type CycleHook = Exclude<keyof CycleObserver, 'name'>;
type HookEvent<H extends CycleHook> = Parameters<NonNullable<CycleObserver[H]>>[0];

/**
 * Calls `hook` on every observer that has it, concurrently; a rejection (or a throw) is logged with the
 * observer's name and swallowed, so an output never fails or stops the core.
 */
export async function notifyCycleObservers<H extends CycleHook>(
  observers: readonly CycleObserver[],
  hook: H,
  event: HookEvent<H>,
  logger: { warn(obj: object, msg: string): void },
): Promise<void> {
  // Each observer starts on a turn of its own (their synchronous parts, e.g. MarketSwarm's choice of
  // 20,000 contracts, are not summed into one turn) and runs beside the others (their I/O overlaps).
  const runs: Promise<void>[] = [];
  for (const o of observers) {
    const fn = o[hook] as ((e: HookEvent<H>) => Promise<void>) | undefined;
    if (!fn) continue;
    if (runs.length > 0) await nextTurn();
    runs.push(
      (async () => {
        try {
          await fn.call(o, event);
        } catch (err) {
          logger.warn({ observer: o.name, hook, err: (err as Error).message }, 'cycle observer failed');
        }
      })(),
    );
  }
  await Promise.all(runs);
}
