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
import { unixSeconds } from '../lib/time.js';
import type { RedisBus } from '../redis/bus.js';
import type { KeySchema, ModelName } from '../redis/keys.js';
import type { Metrics } from '../serving/metrics.js';
import { closeObservers, modelObservers, type ModelObserver } from '../outputs/index.js';
import { MODEL_NAMES, underlyingOf } from '../redis/keys.js';
import { EpochStore } from '../wiring/epoch-store.js';
import { joinJsonArray, type BuildRequest, type BuildResponse } from './build-models.js';
import { buildRequestFor } from './build-request.js';
import { Drain } from './drain.js';
import { EarlyBuilds, metaFingerprint } from './early-build.js';
import { ModelThreadPool } from './model-thread.js';
import type { SubstrateColumns } from './substrate-columns.js';
import type { OfferNotice, SubstrateHandoff } from './substrate-handoff.js';

export const BUILD_LEASE_MS = 30_000;

export const POLL_MS = 1_000;
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
   * Start the model maths when a cycle offers its substrates, beside its writes (default true with a
   * handoff; early-build.ts). False: only when the epoch's build asks for them.
   */
  earlyBuild?: boolean;
}

/** An epoch's models, made for its build, and what they were made from. */
interface Computed {
  req: BuildRequest;
  built: BuildResponse;
  refreshTs: string;
  source: 'early' | 'handoff' | 'redis';
  readMs: number;
  /** Waiting for the models (the thread's build, or the early build's rest). */
  waitMs: number;
}

export interface BuildOutcome {
  epochId: string;
  symbol: string;
  status: 'built' | 'superseded' | 'claimed_elsewhere' | 'missing' | 'failed';
  contracts?: number;
  ms?: { read: number; parse: number; gex: number; heatmap: number; thread: number; write: number };
  /**
   * Where the models came from: built early from the cycle's offer (early), or at build time from the
   * cycle's offer (handoff) or from Redis.
   */
  source?: 'early' | 'handoff' | 'redis';
  error?: string;
}

export class ModelBuilder {
  private sub: Redis | Cluster | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly drains: Drain<BuildOutcome>;
  private readonly threads: ModelThreadPool;
  /** Early builds; the substrate columns they handed over wait for the epoch's build (never before its commit). */
  private readonly early = new EarlyBuilds<{
    req: BuildRequest;
    built: BuildResponse;
    columns: SubstrateColumns | null;
  }>();

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

  constructor(private readonly deps: BuilderDeps) {
    this.ownsObservers = deps.observers === undefined;
    this.observers = deps.observers ?? modelObservers(deps);
    this.modelOutputs = this.observers.filter((o) => o.substratesRead !== undefined);
    this.epochs = new EpochStore(deps.bus, deps.keys);
    this.threads = new ModelThreadPool(deps.config.modelThreads);
    this.drains = new Drain({
      dirtyIds: () => this.epochs.dirtyIds(),
      build: (epochId) => this.buildEpoch(epochId),
      // The outputs built beside ours (MarketSwarm's) are written before the drain answers; the history is not.
      outputsIdle: async () => {
        for (const o of this.modelOutputs) await o.idle?.();
      },
      stopped: () => this.stopped,
    });
    if (deps.earlyBuild !== false) deps.handoff?.onOffer((n) => this.startEarly(n));
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
    this.deps.handoff?.onOffer(undefined);
    await this.drains.settled();
    this.early.clear();
    await this.threads.close();
    if (this.ownsObservers) await closeObservers(this.observers);
  }

  /** The epoch's substrates read from Redis through its contract index, as one JSON array; null without an index. */
  private async readSubstrates(epochId: string): Promise<Uint8Array | null> {
    const ids = await this.epochs.contractIds(epochId);
    return ids === null ? null : joinJsonArray(await this.epochs.substrateBytes(epochId, ids));
  }

  /**
   * Outputs that build from the substrates (MarketSwarm's) get the columns the model thread read from them
   * (no second parse) and build on a thread of their own, beside ours.
   */
  private handColumns(req: BuildRequest, columns: SubstrateColumns): void {
    const vendorSymbol = this.deps.config.symbols.find((s) => underlyingOf(s) === req.symbol);
    for (const o of this.modelOutputs)
      o.substratesRead?.({
        underlying: req.symbol,
        symbol: vendorSymbol ?? `I:${req.symbol}`,
        epochId: req.epochId,
        asOf: req.asOf,
        spot: req.spot,
        ts: req.ts,
        widths: req.widths,
        windowPct: req.windowPct,
        columns,
      });
  }

  /**
   * A cycle of this process offered an epoch's substrates with the meta it is writing: the maths start now,
   * beside the cycle's writes, on a model thread; the epoch's build takes the result (early-build.ts).
   */
  private startEarly(n: OfferNotice): void {
    const bytes = this.stopped ? null : (this.deps.handoff?.take(n.epochId, n.refreshTs) ?? null);
    if (bytes === null) return;
    const ts = Date.now();
    const req = buildRequestFor(this.deps.config, {
      epochId: n.epochId,
      symbol: n.symbol,
      meta: n.meta,
      ts,
      substrates: bytes,
      compat: this.modelOutputs.length > 0,
    });
    this.early.start(n.symbol, { ...n, ts }, async () => {
      const lease = await this.threads.acquire();
      try {
        if (this.stopped) throw new Error('builder stopped');
        // The columns are kept, not handed over: the epoch is not committed yet.
        let columns: SubstrateColumns | null = null;
        const built = await lease.thread.build(req, (c) => {
          columns = c;
        });
        return { req, built, columns };
      } finally {
        lease.release();
      }
    });
  }

  /**
   * The models of an epoch at its current refresh time: from its early build when one matches the meta Redis
   * holds now, else built here (a model thread, the substrates from the handoff or Redis). `refreshed`: a
   * refresh landed meanwhile (build again); `missing`: no contract index.
   */
  private async compute(epochId: string, symbol: string): Promise<Computed | 'refreshed' | 'missing'> {
    const { epochs } = this;
    const early = this.early.take(symbol, epochId, await epochs.refreshTs(epochId));
    if (early !== null) {
      const t0 = performance.now();
      const made = await early.result;
      const fresh = await epochs.meta(epochId);
      if (made !== null && metaFingerprint(fresh) === early.fingerprint) {
        if (made.columns) this.handColumns(made.req, made.columns);
        return {
          req: made.req,
          built: made.built,
          refreshTs: early.refreshTs,
          source: 'early',
          readMs: 0,
          waitMs: performance.now() - t0,
        };
      }
      // Another meta (or a failed thread): built again below, from Redis (the early build took the offer).
    }
    // A model thread from before the substrates are taken (a build waiting for one holds no copy of them)
    // until the models come back: the writes after it overlap the next epoch's build.
    const lease = await this.threads.acquire();
    try {
      const refreshTs = await epochs.refreshTs(epochId);
      const t0 = performance.now();
      const handed = this.deps.handoff?.take(epochId, refreshTs) ?? null;
      const substrates = handed ?? (await this.readSubstrates(epochId));
      if (substrates === null) return 'missing';
      const readMs = performance.now() - t0;
      const fresh = await epochs.meta(epochId);
      if ((fresh.last_refresh_ts ?? '') !== refreshTs) return 'refreshed';
      const t1 = performance.now();
      const req = buildRequestFor(this.deps.config, {
        epochId,
        symbol,
        meta: fresh,
        ts: Date.now(),
        substrates,
        compat: this.modelOutputs.length > 0,
      });
      // MarketSwarm's outputs start as soon as the thread has parsed the substrates.
      const built = await lease.thread.build(req, (columns) => this.handColumns(req, columns));
      const source = handed ? 'handoff' : 'redis';
      return { req, built, refreshTs, source, readMs, waitMs: performance.now() - t1 };
    } finally {
      lease.release();
    }
  }

  /** Builds one epoch if it is dirty, active and unclaimed. */
  async buildEpoch(epochId: string): Promise<BuildOutcome> {
    const { bus, keys, logger, metrics, config } = this.deps;
    const { epochs } = this;
    const r = bus.cmd;
    const meta = await epochs.meta(epochId);
    const symbol = meta.symbol ?? epochId.split(':')[0] ?? '';
    const drop = (): void => {
      this.deps.handoff?.drop(epochId);
      this.early.drop(epochId);
    };
    if (!meta.symbol) {
      drop();
      await epochs.dropDirty(epochId);
      return { epochId, symbol, status: 'missing' };
    }
    if ((await epochs.activeId(symbol)) !== epochId) {
      drop();
      await epochs.dropDirty(epochId);
      return { epochId, symbol, status: 'superseded' };
    }
    if (!(await epochs.claimBuild(epochId, this.deps.owner, BUILD_LEASE_MS))) {
      drop();
      return { epochId, symbol, status: 'claimed_elsewhere' };
    }
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const made = await this.compute(epochId, symbol);
        if (made === 'refreshed') continue;
        if (made === 'missing') {
          logger.warn({ epochId }, 'epoch contract index missing; leaving the last model in place');
          return { epochId, symbol, status: 'missing' };
        }
        const { built, req, refreshTs } = made;
        const { ts, asOf, spot } = req;
        const vendorSymbol = config.symbols.find((s) => underlyingOf(s) === symbol) ?? `I:${symbol}`;
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
          read: made.readMs,
          parse: built.ms.parse,
          gex: built.ms.gex,
          heatmap: built.ms.heatmap,
          thread: made.waitMs,
          write: t4 - t3,
        };
        logger.debug({ epochId, contracts: built.contracts, ms, source: made.source }, 'models built');
        return { epochId, symbol, status: 'built', contracts: built.contracts, ms, source: made.source };
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
