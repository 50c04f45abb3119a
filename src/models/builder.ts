/**
 * @module The model builder runner: claims dirty active epochs, reads their substrates through the
 * contract index (no KEYS, no SCAN), builds GEX and the heatmap with the pure maths, SETs
 * `massive:models:{model}:{U}`, publishes on `massive:models`, then marks the epoch clean.
 *
 * Driven by `epoch:dirty`: a pub/sub nudge for low latency plus a poll, so a missed message only delays a
 * build. A per-epoch build lease (SET NX PX) makes each epoch build once across builder processes. A
 * build that fails leaves the epoch dirty and the last good model in place.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import type { Logger } from '../lib/logger.js';
import { modelWork } from '../lib/quiet-gate.js';
import { msOfSeconds, unixSeconds } from '../lib/time.js';
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema, ModelName } from '../redis/keys.js';
import type { Metrics } from '../serving/metrics.js';
import { closeObservers, modelObservers, type ModelObserver } from '../outputs/index.js';
import { MODEL_NAMES, underlyingOf } from '../redis/keys.js';
import { EpochStore } from '../wiring/epoch-store.js';
import { joinJsonArray } from './build-models.js';
import { Drain } from './drain.js';
import { ModelThreadPool } from './model-thread.js';
import type { SubstrateColumns } from './substrate-columns.js';
import type { SubstrateHandoff } from './substrate-handoff.js';
import type { LiveInfo, ModelProvider } from './types.js';

export const BUILD_LEASE_MS = 30_000;

/** The model header fields the epoch meta carries: partial, missing expirations, provider. */
export function epochHeaderFields(meta: Record<string, string>): {
  partial: boolean;
  missingExpirations: string[];
  provider: ModelProvider | null;
} {
  let missing: unknown = [];
  try {
    missing = JSON.parse(meta.missing_expirations ?? '[]');
  } catch {
    // A meta written by hand or by an older worker: no missing expirations known.
  }
  const provider = meta.provider;
  return {
    partial: meta.partial === '1',
    missingExpirations: Array.isArray(missing) ? missing.filter((e) => typeof e === 'string') : [],
    provider: provider === 'massive' || provider === 'sim' || provider === 'replay' ? provider : null,
  };
}
export const POLL_MS = 1_000;
/** The `live` header of a model built from the REST snapshot as written. */
export const SNAPSHOT_LIVE_INFO: LiveInfo = {
  source: 'snapshot',
  spot_source: 'snapshot',
  last_tick_ts: null,
  streamed_contracts: 0,
  quote_age_ms: null,
};

export interface BuilderDeps {
  bus: RedisBus;
  keys: KeySchema;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  owner: string;
  /** Outputs told about every published build (default: those CHAIN_COMPAT asks for). */
  observers?: ModelObserver[];
  /** Substrates the cycles of this process wrote (skips reading them back when the version matches). */
  handoff?: SubstrateHandoff;
  /**
   * The model threads (given when the observers were made outside with its history lane, as `run` does:
   * whoever gave them closes them, after the observers); default: a pool of `CHAIN_MODEL_THREADS` of its own.
   */
  threads?: ModelThreadPool;
}

export interface BuildOutcome {
  epochId: string;
  symbol: string;
  status: 'built' | 'superseded' | 'claimed_elsewhere' | 'missing' | 'failed';
  contracts?: number;
  ms?: { read: number; parse: number; gex: number; heatmap: number; thread: number; write: number };
  /** Where the substrates came from: the cycle of this process (handoff) or Redis. */
  source?: 'handoff' | 'redis';
  error?: string;
}

export class ModelBuilder {
  private sub: Redis | Cluster | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly drains: Drain<BuildOutcome>;
  private readonly threads: ModelThreadPool;

  private readonly observers: ModelObserver[];
  /**
   * The outputs that build models of their own from the substrates (MarketSwarm's, {@link
   * ModelObserver.substratesRead}): the drain answers once they are written. The others (the history) are
   * background queues the drain never waits for; {@link idle} does.
   */
  private readonly modelOutputs: ModelObserver[];
  private readonly epochs: EpochStore;
  /** The observers were made here (not given): {@link stop} closes them. */
  private readonly ownsObservers: boolean;
  /** The threads were made here (not given): {@link stop} closes them. */
  private readonly ownsThreads: boolean;
  /** Each symbol's last heatmap size: the next is written into a buffer sized from it (no growth, no copy). */
  private readonly lastHeatmapBytes = new Map<string, number>();

  constructor(private readonly deps: BuilderDeps) {
    this.ownsObservers = deps.observers === undefined;
    this.ownsThreads = deps.threads === undefined;
    this.threads = deps.threads ?? new ModelThreadPool(deps.config.modelThreads);
    // The history encodes on the first model thread, after its builds (no thread of its own).
    this.observers = deps.observers ?? modelObservers({ ...deps, historyThread: this.threads.historyLane() });
    this.modelOutputs = this.observers.filter((o) => o.substratesRead !== undefined);
    this.epochs = new EpochStore(deps.bus, deps.keys);
    this.drains = new Drain({
      dirtyIds: () => this.epochs.dirtyIds(),
      build: (epochId) => this.buildEpoch(epochId),
      // The outputs built beside ours (MarketSwarm's) are written before the drain answers; the history is not.
      outputsIdle: async () => {
        for (const o of this.modelOutputs) await o.idle?.();
      },
      stopped: () => this.stopped,
    });
  }

  /**
   * Builds every dirty, active epoch once. Concurrent calls coalesce: a call while a drain runs makes it
   * scan `epoch:dirty` again at once, so an epoch committed meanwhile starts building without waiting for
   * the others (as many build at once as there are model threads; one at a time per symbol: drain.ts).
   */
  drain(): Promise<BuildOutcome[]> {
    return this.drains.run();
  }

  /**
   * Resolves when every output has written what it queued, the history included (tests, `run --once`).
   * A drain running meanwhile is waited for first.
   */
  async idle(): Promise<void> {
    await this.drains.settled();
    for (const o of this.observers) await o.idle?.();
  }

  /** Subscribes to the dirty nudge and polls `epoch:dirty` (standalone `chain-worker build`). */
  async start(): Promise<void> {
    await this.retireLegacyModelKeys();
    this.sub = this.deps.bus.duplicate();
    this.sub.on('message', () => {
      this.kick();
    });
    await this.sub.subscribe(this.deps.keys.dirtyChannel);
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.kick();
  }

  /**
   * Migration: deletes the models releases before the rename published at `massive:{model}:model:{U}`, which
   * MarketSwarm's gateway read as a bogus GEX side. One DEL per key (cluster-safe). Failures are logged only.
   */
  async retireLegacyModelKeys(): Promise<number> {
    const { bus, keys, config, logger } = this.deps;
    let removed = 0;
    for (const symbol of config.symbols)
      for (const model of MODEL_NAMES) {
        try {
          removed += await bus.cmd.del(keys.legacyModel(model, underlyingOf(symbol)));
        } catch (err) {
          logger.warn({ symbol, model, err: (err as Error).message }, 'could not delete a legacy model key');
        }
      }
    if (removed > 0) logger.info({ removed }, 'legacy model keys (massive:{model}:model:{U}) deleted');
    return removed;
  }

  private kick(): void {
    if (this.stopped) return;
    this.drain().catch((err: unknown) =>
      this.deps.logger.warn({ err: (err as Error).message }, 'model drain failed'),
    );
  }

  /** Stops polling and waits for a running build. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const sub = this.sub;
    this.sub = undefined;
    if (sub) sub.disconnect();
    await this.drains.settled();
    // The observers first: the history's last encodes run on a model thread.
    if (this.ownsObservers) await closeObservers(this.observers);
    if (this.ownsThreads) await this.threads.close();
  }

  /**
   * The epoch's substrates read from Redis through its contract index, as one JSON array; null without an
   * index; `{ lost, of }` when some the index lists are gone (expired before the index, evicted, lost with a
   * node): a model of the rest would be published as the whole chain.
   */
  private async readSubstrates(epochId: string): Promise<Uint8Array | { lost: number; of: number } | null> {
    const ids = await this.epochs.contractIds(epochId);
    if (ids === null) return null;
    const parts = await this.epochs.substrateBytes(epochId, ids);
    const lost = parts.reduce((n, p) => (p === null ? n + 1 : n), 0);
    return lost > 0 ? { lost, of: ids.length } : joinJsonArray(parts);
  }

  /** Builds one epoch if it is dirty, active and unclaimed. */
  async buildEpoch(epochId: string): Promise<BuildOutcome> {
    // The history's encodes wait while builds are in flight (lib/quiet-gate.ts).
    const release = modelWork.hold();
    try {
      return await this.buildHeld(epochId);
    } finally {
      release();
    }
  }

  private async buildHeld(epochId: string): Promise<BuildOutcome> {
    const { bus, keys, logger, metrics, config } = this.deps;
    const { epochs } = this;
    const r = bus.cmd;
    const meta = await epochs.meta(epochId);
    const symbol = meta.symbol ?? epochId.split(':')[0] ?? '';
    if (!meta.symbol) {
      this.deps.handoff?.drop(epochId);
      await epochs.dropDirty(epochId);
      return { epochId, symbol, status: 'missing' };
    }
    if ((await epochs.activeId(symbol)) !== epochId) {
      this.deps.handoff?.drop(epochId);
      await epochs.dropDirty(epochId);
      return { epochId, symbol, status: 'superseded' };
    }
    if (!(await epochs.claimBuild(epochId, this.deps.owner, BUILD_LEASE_MS))) {
      this.deps.handoff?.drop(epochId);
      return { epochId, symbol, status: 'claimed_elsewhere' };
    }
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        // A model thread from before the substrates are taken (a build waiting for one holds no copy of
        // them) until the models come back: the writes below overlap the next epoch's build.
        const lease = await this.threads.acquire();
        try {
          const refreshTs = await epochs.refreshTs(epochId);
          const t0 = performance.now();
          const handed = this.deps.handoff?.take(epochId, refreshTs) ?? null;
          const substrates = handed ?? (await this.readSubstrates(epochId));
          if (substrates === null) {
            logger.warn({ epochId }, 'epoch contract index missing; leaving the last model in place');
            return { epochId, symbol, status: 'missing' };
          }
          if (!(substrates instanceof Uint8Array)) {
            // The epoch stays dirty: the worker's next refresh rewrites every substrate, then it builds.
            const error = `${substrates.lost} of ${substrates.of} substrates missing`;
            logger.warn(
              { epochId, ...substrates },
              'epoch substrates missing; leaving the last model in place',
            );
            return { epochId, symbol, status: 'missing', error };
          }
          const readMs = performance.now() - t0;
          const fresh = await epochs.meta(epochId);
          if ((fresh.last_refresh_ts ?? '') !== refreshTs) continue;

          // Redis holds Unix seconds; the model thread works in epoch ms.
          const asOfMs = msOfSeconds(fresh.as_of ?? fresh.last_refresh_ts);
          const asOf = Number.isFinite(asOfMs) ? asOfMs : Date.now();
          const spot = fresh.spot ? Number(fresh.spot) : null;
          const ts = Date.now();
          const stale = fresh.status === 'dormant' || ts - asOf > config.staleAfterSec * 1000;
          const t1 = performance.now();
          const vendorSymbol = config.symbols.find((s) => underlyingOf(s) === symbol) ?? `I:${symbol}`;
          const widths = config.widths[symbol] ?? [5, 10, 15, 20];
          // Outputs that build from the substrates (MarketSwarm's) get the columns the model thread read from
          // them as soon as it has parsed them (no second parse) and build on a thread of their own, beside ours.
          const handColumns = (columns: SubstrateColumns): void => {
            for (const o of this.modelOutputs)
              o.substratesRead?.({
                underlying: symbol,
                symbol: vendorSymbol,
                epochId,
                asOf,
                spot,
                ts,
                widths,
                windowPct: config.heatmapWindowPct,
                columns,
              });
          };
          const built = await lease.thread.build(
            {
              symbol,
              epochId,
              asOf,
              spot,
              ts,
              stale,
              ...epochHeaderFields(fresh),
              widths,
              windowPct: config.heatmapWindowPct,
              substrates,
              live: SNAPSHOT_LIVE_INFO,
              compat: this.modelOutputs.length > 0,
              lastHeatmapBytes: this.lastHeatmapBytes.get(symbol),
            },
            handColumns,
          );
          lease.release();
          this.lastHeatmapBytes.set(symbol, built.heatmap.byteLength);
          const t3 = performance.now();
          const gexJson = Buffer.from(built.gex.buffer, built.gex.byteOffset, built.gex.byteLength);
          const heatmapJson = Buffer.from(
            built.heatmap.buffer,
            built.heatmap.byteOffset,
            built.heatmap.byteLength,
          );
          const models: [ModelName, Buffer][] = [
            ['gex', gexJson],
            ['heatmap', heatmapJson],
          ];
          // A cycle of this process announces its epoch before the models are (it started this build early).
          await this.deps.handoff?.announced(epochId);
          // A promotion that landed while this epoch was built wins: its models are the newer ones, and
          // another builder may have written them already.
          if ((await epochs.activeId(symbol)) !== epochId) {
            await epochs.dropDirty(epochId);
            return { epochId, symbol, status: 'superseded' };
          }
          // Each model is one SET of its whole JSON: readers never see a torn model. setLarge, not the
          // client's SET: ioredis copies a value into its command buffer and again into its pipeline's,
          // 30–50 ms of main-thread CPU in one turn for a 20,000-contract heatmap (~15 MB). On a raw
          // connection of the models' own: never behind `massive:chain:latest`'s multi-MB upload.
          for (const [model, json] of models) {
            const key = keys.model(model, symbol);
            await bus.setLarge(key, json, undefined, 'models');
            await r.publish(
              keys.modelsChannel,
              JSON.stringify({
                model,
                symbol,
                epoch_id: epochId,
                ts: unixSeconds(ts),
                key,
                trigger: 'snapshot',
              }),
            );
          }
          for (const o of this.observers) {
            await o
              .modelsPublished({
                underlying: symbol,
                symbol: vendorSymbol,
                epochId,
                ts,
                trigger: 'snapshot',
                asOf,
                spot,
                levels: built.levels,
                models: { gex: gexJson, heatmap: heatmapJson },
              })
              .catch((err: unknown) =>
                logger.warn({ output: o.name, symbol, err: (err as Error).message }, 'output failed'),
              );
          }
          const t4 = performance.now();
          // Clean only if no refresh landed while we built (atomic); otherwise the next drain rebuilds it.
          await epochs.markClean(epochId, refreshTs);
          metrics.modelBuildSeconds.observe({ model: 'gex', symbol }, built.ms.gex / 1000);
          metrics.modelBuildSeconds.observe({ model: 'heatmap', symbol }, built.ms.heatmap / 1000);
          for (const model of ['gex', 'heatmap'] as const)
            metrics.modelPublished.set({ model, symbol }, unixSeconds());
          const ms = {
            read: readMs,
            parse: built.ms.parse,
            gex: built.ms.gex,
            heatmap: built.ms.heatmap,
            thread: t3 - t1,
            write: t4 - t3,
          };
          logger.debug({ epochId, contracts: built.contracts, ms }, 'models built');
          const source = handed ? 'handoff' : 'redis';
          return { epochId, symbol, status: 'built', contracts: built.contracts, ms, source };
        } finally {
          lease.release();
        }
      }
      return { epochId, symbol, status: 'failed', error: 'epoch kept refreshing during the build' };
    } catch (err) {
      logger.warn({ epochId, err: (err as Error).message }, 'model build failed; epoch stays dirty');
      return { epochId, symbol, status: 'failed', error: (err as Error).message };
    } finally {
      await epochs.releaseBuild(epochId, this.deps.owner).catch(() => undefined);
    }
  }
}
