/**
 * @module Every Redis key and channel name chain-worker reads or writes. Nothing else builds a key string.
 *
 * Names follow `shared/seed/chain-worker-redis-wiring.md` exactly. An optional namespace prefix (empty in
 * production) lets tests and side-by-side environments share one Redis without touching each other.
 */
import { compactDate, settlementStyle } from '../domain/market-time.js';
import type { ContractType } from '../provider/massive/types.js';

/** Analytics time series (ZSETs under `massive:chain:analytics:`). */
export const ANALYTICS_SERIES = [
  'fetch_latency',
  'staleness',
  'strike_range',
  'contract_count',
  'contract_density',
] as const;
export type AnalyticsSeries = (typeof ANALYTICS_SERIES)[number];

export const MODEL_NAMES = ['gex', 'heatmap'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** `I:SPX` → `SPX`: the `{U}` of every key. */
export function underlyingOf(symbol: string): string {
  return symbol.startsWith('I:') ? symbol.slice(2) : symbol;
}

/** Strike × 1000 as an integer, e.g. 4500 → `4500000`, 6852.5 → `6852500`. */
export function strikeCode(strike: number): string {
  return String(Math.round(strike * 1000));
}

export interface SnapshotKeyParts {
  underlying: string;
  /** YYYY-MM-DD */
  expiration: string;
  type: ContractType;
  strike: number;
  root: string;
}

export class KeySchema {
  constructor(readonly prefix = '') {}

  private k(name: string): string {
    return this.prefix + name;
  }

  // ── raw snapshots ───────────────────────────────────────────────────────────
  /**
   * `massive:chain:snapshot:{U}:{YYYYMMDD}:{C|P}{strike×1000}`.
   *
   * Collision rule: SPX (AM-settled monthly) and SPXW (PM-settled) can share an expiration, type and
   * strike. PM-settled roots, which are every root but the AM index monthlies, keep the seed's form; an
   * AM-settled root (SPX, NDX, RUT, VIX) adds its root as a final segment:
   * `massive:chain:snapshot:SPX:20260116:C4500000:SPX`. The key depends on the contract alone.
   */
  snapshot(p: SnapshotKeyParts): string {
    const base = `massive:chain:snapshot:${p.underlying}:${compactDate(p.expiration)}:${p.type}${strikeCode(p.strike)}`;
    return this.k(settlementStyle(p.root) === 'AM' ? `${base}:${p.root}` : base);
  }

  /** Channel announcing a completed snapshot per symbol. */
  get snapshotChannel(): string {
    return this.k('massive:chain:snapshot');
  }

  /**
   * STRING `{version, ts, contracts: {ticker: vendor JSON}, symbols: {U: summary}}`: the latest snapshot of
   * every symbol (MarketSwarm's form), assembled client-side from the per-symbol parts below.
   */
  get latest(): string {
    return this.k('massive:chain:latest');
  }

  /**
   * The hash tag of the keys that make up `massive:chain:latest`: `{massive:chain:latest}` hashes exactly
   * like the untagged consumer-facing name, so parts, counters and the document share one cluster slot.
   */
  private get latestTag(): string {
    return `{${this.latest}}`;
  }

  /** HASH: one symbol's part of `massive:chain:latest`: its ticker set (`tickers_z`, `tickers_hash`). */
  latestPart(underlying: string): string {
    return this.k(`massive:chain:latest:part:${this.latestTag}:${underlying}`);
  }

  /**
   * STRING: one symbol's `"ticker":vendor,…` fragment, as versions before the layout stored it (a copy of
   * the document's bytes). No longer written; a writer deletes its symbol's on its first part write.
   */
  latestContracts(underlying: string): string {
    return this.k(`massive:chain:latest:contracts:${this.latestTag}:${underlying}`);
  }

  /**
   * HASH `{U}` → `token:summaryStart:summaryLength:contractsStart:contractsLength`: where each symbol's
   * summary and contracts fragment sit in the current document (written by the commit with it), so a
   * writer reads another's fragment with GETRANGE and Redis keeps no second copy of it.
   */
  get latestLayout(): string {
    return this.k(`massive:chain:latest:layout:${this.latestTag}`);
  }

  /** SET of the `{U}` that had a part, as versions before the layout kept it: deleted by a writer's first part write. */
  get latestParts(): string {
    return this.k(`massive:chain:latest:parts:${this.latestTag}`);
  }

  /** INCR on every commit of the document: an assembly commits only if it is unchanged since it read. */
  get latestRev(): string {
    return this.k(`massive:chain:latest:rev:${this.latestTag}`);
  }

  /** The document's `version`: one up with each committed document whose ticker set changed. */
  get latestVersion(): string {
    return this.k(`massive:chain:latest:version:${this.latestTag}`);
  }

  /** The version of the document made current last (announced once on `massive:chain:geometry_updated`). */
  get latestPublishedVersion(): string {
    return this.k(`massive:chain:latest:published_version:${this.latestTag}`);
  }

  /** Where an assembly is SET before the commit script RENAMEs it over `massive:chain:latest`. */
  latestStaging(token: string): string {
    return this.k(`massive:chain:latest:staging:${this.latestTag}:${token}`);
  }

  /** STRING `{version, ts, entered: [ticker], exited: [ticker]}`: the last ticker-set change. */
  get latestDelta(): string {
    return this.k('massive:chain:delta:latest');
  }

  /** Channel: `{version}` when `massive:chain:latest` carries a new version. */
  get geometryUpdatedChannel(): string {
    return this.k('massive:chain:geometry_updated');
  }

  // ── analytics ───────────────────────────────────────────────────────────────
  get analytics(): string {
    return this.k('massive:chain:analytics');
  }

  analyticsSeries(series: AnalyticsSeries): string {
    return this.k(`massive:chain:analytics:${series}`);
  }

  get symbolCoverage(): string {
    return this.k('massive:chain:analytics:symbol_coverage');
  }

  get fetchHealth(): string {
    return this.k('massive:chain:analytics:fetch_health');
  }

  // ── epochs ──────────────────────────────────────────────────────────────────
  get epochActive(): string {
    return this.k('epoch:active');
  }

  epochMeta(epochId: string): string {
    return this.k(`epoch:meta:${epochId}`);
  }

  epochTimeline(underlying: string): string {
    return this.k(`epoch:timeline:${underlying}`);
  }

  get epochDirty(): string {
    return this.k('epoch:dirty');
  }

  get epochClean(): string {
    return this.k('epoch:clean');
  }

  /** `epoch:{epoch_id}:contract:{contract_id}`: the normalized substrate. */
  epochContract(epochId: string, contractId: string): string {
    return this.k(`epoch:${epochId}:contract:${contractId}`);
  }

  /**
   * Added to the seed: STRING, the epoch's contract ids (newline-joined, zlib-compressed: wiring/contract-index.ts),
   * so readers never SCAN.
   */
  epochContracts(epochId: string): string {
    return this.k(`epoch:${epochId}:contracts`);
  }

  /** Channel nudging builders that an epoch turned dirty (they also poll `epoch:dirty`). */
  get dirtyChannel(): string {
    return this.k('epoch:dirty');
  }

  // ── models ──────────────────────────────────────────────────────────────────
  /**
   * `massive:models:{model}:{U}`: the published model JSON. Not the seed's `massive:{model}:model:{U}`:
   * MarketSwarm's SSE gateway reads every key matching `massive:gex:model:*` four times a second as one of
   * its own GEX sides (see README, MarketSwarm-compatible outputs).
   */
  model(model: ModelName, underlying: string): string {
    return this.k(`massive:models:${model}:${underlying}`);
  }

  /** Where releases before the rename published models (`massive:{model}:model:{U}`); deleted at builder start. */
  legacyModel(model: ModelName, underlying: string): string {
    return this.k(`massive:${model}:model:${underlying}`);
  }

  get modelsChannel(): string {
    return this.k('massive:models');
  }

  // ── model history (CHAIN_MODEL_HISTORY_SEC) ─────────────────────────────────
  /**
   * `massive:history:{model}:{U}`: ZSET, score = publish time (Unix s), member = the version's index row
   * (JSON with its version id `v`, `epoch_id`, `trigger` and, for GEX, the series fields).
   */
  modelHistory(model: ModelName, underlying: string): string {
    return this.k(`massive:history:${model}:${underlying}`);
  }

  /** `massive:history:{model}:{U}:{version}`: STRING, one version's record (keyframe or patch, brotli). */
  modelHistoryVersion(model: ModelName, underlying: string, version: string): string {
    return this.k(`massive:history:${model}:${underlying}:${version}`);
  }

  // ── MarketSwarm-compatible outputs (CHAIN_COMPAT=marketswarm; `symbol` in vendor form, e.g. `I:SPX`) ──
  /** STRING `{ts, symbol, expirations: {date: {strike: gamma·OI·100}}}`, puts positive. */
  compatGex(symbol: string, side: 'calls' | 'puts'): string {
    return this.k(`massive:gex:model:${symbol}:${side}`);
  }

  /** STRING: MarketSwarm's heatmap document (tiles keyed `strategy:dte:width:strike`). */
  compatHeatmapLatest(symbol: string): string {
    return this.k(`massive:heatmap:model:${symbol}:latest`);
  }

  /** Channel carrying each heatmap change as a diff (changed and removed tiles only, ≤ 128 KiB each). */
  compatHeatmapDiff(symbol: string): string {
    return this.k(`massive:heatmap:diff:${symbol}`);
  }

  /** STREAM of heatmap diffs (`payload` field), capped. */
  compatHeatmapReplay(symbol: string): string {
    return this.k(`massive:heatmap:replay:${symbol}`);
  }

  /** STRING `{symbol, value, ts, source: "chain-worker"}`. */
  compatSpot(symbol: string): string {
    return this.k(`massive:model:spot:${symbol}`);
  }

  // ── events ──────────────────────────────────────────────────────────────────
  /** STREAM of events for downstream services (field `payload`: JSON `{type, symbol, epoch_id, ts, …}`), capped. */
  get events(): string {
    return this.k('massive:events');
  }

  /**
   * HASH per symbol: the level-event state (`state` JSON, `as_of` fence, Unix seconds, `v` version). The hash tag puts it
   * in the slot of `massive:events`, so one script checks it, updates it and XADDs atomically on a cluster.
   */
  eventLevels(underlying: string): string {
    return this.k(`massive:events:levels:{${this.events}}:${underlying}`);
  }

  /** SET of the option tickers worth streaming, every symbol's (MarketSwarm's WebSocket hydration list). */
  get wsSubscriptionList(): string {
    return this.k('massive:ws:subscription_list');
  }

  /** Channel: the subscription list changed (`{symbol, count, added, removed, ts}`). */
  get wsSubscriptionUpdated(): string {
    return this.k('massive:ws:subscription_updated');
  }

  // ── system bus ──────────────────────────────────────────────────────────────
  get heartbeat(): string {
    return this.k('massive:heartbeat');
  }

  /** Channel carrying every fleet heartbeat (same JSON as the key; the aggregator SUBSCRIBEs here). */
  get heartbeatChannel(): string {
    return this.k('massive:heartbeat');
  }

  /** HASH worker id → that worker's heartbeat entry (JSON); the fleet view is composed from it. */
  get heartbeatWorkers(): string {
    return this.k('massive:heartbeat:workers');
  }

  // ── scale-out (added to the seed) ───────────────────────────────────────────
  /**
   * Per-symbol worker lease: STRING `{owner}|{fence}` with expiry.
   *
   * The `{…}` hash tag puts every lease in the slot of `epoch:active`, so on a cluster the promotion script
   * can check the fencing token and flip `epoch:active` atomically in one slot.
   */
  workerLease(underlying: string): string {
    return this.k(`massive:chain:lease:{${this.epochActive}}:${underlying}`);
  }

  /** Monotonic fencing-token counter for a symbol's leases (same slot as `epoch:active`). */
  workerFence(underlying: string): string {
    return this.k(`massive:chain:fence:{${this.epochActive}}:${underlying}`);
  }

  /** ZSET of live workers (member = worker id, score = last renewal ms), for fair sharing of symbols. */
  get workers(): string {
    return this.k('massive:chain:workers');
  }

  /** Per-epoch build lease, so each epoch is built once across builder processes. */
  buildLease(epochId: string): string {
    return this.k(`epoch:${epochId}:build_lease`);
  }
}
