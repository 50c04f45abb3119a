/**
 * @module The live chain: streamed quotes and index values hydrate each symbol's active epoch between REST
 * snapshots, and GEX and the heatmap are rebuilt from it at most `CHAIN_LIVE_MODEL_HZ` times a second per
 * symbol, only when something changed, and published to the same keys.
 *
 * Each symbol has a live thread of its own (live-thread.ts) that keeps the snapshot's substrates, applies
 * the quotes and trades sent to it, hydrates, builds both models and encodes the changed substrates; this
 * (main) thread only checks sequences, coalesces, orchestrates and writes to Redis. The symbols build side
 * by side.
 *
 * The REST snapshot stays the source of truth: a new active epoch, or a refresh of the active one (its
 * `last_refresh_ts` moved), replaces the live state (quotes applied, live spot) and the subscriptions are
 * chosen again. A stream update never changes geometry.
 */
import type { Config } from '../config/load.js';
import type { Logger } from '../lib/logger.js';
import { msOfSeconds, unixSeconds } from '../lib/time.js';
import { epochHeaderFields } from '../models/builder.js';
import { EpochStore } from '../wiring/epoch-store.js';
import { joinJsonArray } from '../models/build-models.js';
import type { Feed, StreamEvent } from '../provider/massive/stream-protocol.js';
import type { RedisBus } from '../redis/bus.js';
import { underlyingOf, type KeySchema, type ModelName } from '../redis/keys.js';
import type { Metrics } from '../serving/metrics.js';
import type { ModelObserver } from '../outputs/observers.js';
import { LiveThread } from './live-thread.js';
import { QuoteBuffer } from './quote-buffer.js';
import { SequenceTracker } from './sequence.js';
import { perSymbolBudget, spotMovedFar } from './subscription.js';

/** Where the live chain sends its subscriptions (the stream client's two connections). */
export interface StreamSubscriber {
  setOptions(params: string[]): void;
  setIndices(params: string[]): void;
}

export interface LiveChainDeps {
  bus: RedisBus;
  keys: KeySchema;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  subscriber: StreamSubscriber;
  /** @defaultValue Date.now */
  clock?: () => number;
  /** Outputs told about every published live build (`trigger: "stream"`), e.g. the history. */
  observers?: readonly ModelObserver[];
  /**
   * Whether this worker holds the symbol's lease (vendor ticker): a symbol another worker holds is neither
   * subscribed nor built here (its holder streams it). @defaultValue every symbol
   */
  holds?: (vendor: string) => boolean;
}

/** What moved since the last build: `quotes`, `trades`, `spot`, joined by `+` (e.g. `quotes+spot`). */
export type LiveTrigger = string;

export interface LiveBuildOutcome {
  symbol: string;
  epochId: string;
  trigger: LiveTrigger;
  spot: number;
  streamed: number;
  applied: number;
  published: boolean;
}

interface SymbolState {
  /** `{U}`, e.g. `SPX`. */
  symbol: string;
  /** Vendor ticker, e.g. `I:SPX`. */
  vendor: string;
  epochId: string | null;
  refreshTs: string | null;
  /** Keeps the snapshot's substrates, the applied quotes and volumes; hydrates and builds. */
  thread: LiveThread;
  /** Contracts in the loaded snapshot. */
  contracts: number;
  snapshotSpot: number | null;
  /** Snapshot as-of, epoch ms. */
  asOfMs: number;
  liveSpot: number | null;
  spotReceivedAt: number | null;
  spotChanged: boolean;
  /** Contracts with a quote applied since the snapshot. */
  quoted: Set<string>;
  buffer: QuoteBuffer;
  /** Contracts traded on the stream since the last build (after the snapshot): ticker → contracts. */
  volumes: Map<string, number>;
  /** Receive time of the oldest trade not yet built (for latency). */
  volumesReceivedAt: number | null;
  chosen: string[];
  chosenSpot: number;
  /** Newest vendor time applied, epoch ms. */
  lastTickMs: number | null;
  /** The pass (follow + build) in flight. */
  running: Promise<LiveBuildOutcome | null> | undefined;
  /** This worker holds the symbol's lease (as of the last pass): its index value is subscribed. */
  held: boolean;
}

/** Per-symbol live state and its build loop. */
export class LiveChain {
  private readonly states = new Map<string, SymbolState>();
  /** Option ticker → its symbol's state (the subscribed ones). */
  private readonly owner = new Map<string, SymbolState>();
  private readonly byVendor = new Map<string, SymbolState>();
  private readonly seq = new SequenceTracker();
  /** Trades have their own sequence check (a trade may share its `q` with a quote). */
  private readonly tradeSeq = new SequenceTracker();
  private readonly clock: () => number;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  /** Every epoch read and write goes through the store (one owner per lifecycle). */
  private readonly epochs: EpochStore;

  constructor(private readonly deps: LiveChainDeps) {
    this.clock = deps.clock ?? Date.now;
    this.epochs = new EpochStore(deps.bus, deps.keys);
    const budget = perSymbolBudget(deps.config.streamMaxContracts, deps.config.symbols.length);
    for (const vendor of deps.config.symbols) {
      const st: SymbolState = {
        symbol: underlyingOf(vendor),
        vendor,
        epochId: null,
        refreshTs: null,
        thread: new LiveThread(),
        contracts: 0,
        snapshotSpot: null,
        asOfMs: 0,
        liveSpot: null,
        spotReceivedAt: null,
        spotChanged: false,
        quoted: new Set(),
        buffer: new QuoteBuffer(Math.max(1, budget)),
        volumes: new Map(),
        volumesReceivedAt: null,
        chosen: [],
        chosenSpot: 0,
        lastTickMs: null,
        running: undefined,
        // Without a lease check every symbol is streamed; with one, a symbol is held once a pass saw it.
        held: deps.holds === undefined,
      };
      this.states.set(st.symbol, st);
      this.byVendor.set(vendor, st);
    }
    this.sendIndices();
  }

  /**
   * Starts each symbol's build loop: a pass every 1 / `CHAIN_LIVE_MODEL_HZ` s, or as soon as the previous
   * one ends when it took longer (no whole period lost waiting for the next tick).
   */
  start(): void {
    const period = Math.max(50, Math.round(1000 / this.deps.config.liveModelHz));
    for (const st of this.states.values()) {
      const loop = (): void => {
        if (this.stopped) return;
        const started = Date.now();
        void this.pass(st).finally(() => {
          if (this.stopped) return;
          const timer = setTimeout(loop, Math.max(0, started + period - Date.now()));
          this.timers.set(st.symbol, timer);
        });
      };
      loop();
    }
  }

  private pass(st: SymbolState): Promise<LiveBuildOutcome | null> {
    st.running ??= this.follow(st)
      .then(() => this.build(st))
      .catch((err: unknown) => {
        // A failed build (a dead thread lost its state, Redis down) reloads the snapshot on the next pass.
        st.epochId = null;
        this.deps.metrics.liveFailures.inc({ symbol: st.symbol });
        this.deps.logger.warn({ symbol: st.symbol, err: (err as Error).message }, 'live build failed');
        return null;
      })
      .finally(() => {
        st.running = undefined;
      });
    return st.running;
  }

  /** One pass for every symbol: follow its active epoch, then build what changed. */
  async step(): Promise<LiveBuildOutcome[]> {
    const out = await Promise.all([...this.states.values()].map((st) => this.pass(st)));
    return out.filter((r): r is LiveBuildOutcome => r !== null);
  }

  /** Stops the loop and the live threads. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const st of this.states.values()) {
      await st.running;
      await st.thread.close();
    }
  }

  /** Counters for tests and logs. */
  get counters(): { duplicates: number; outOfOrder: number; accepted: number } {
    return { duplicates: this.seq.duplicates, outOfOrder: this.seq.outOfOrder, accepted: this.seq.accepted };
  }

  /** What the live state of a symbol holds (tests, inspection). */
  stateOf(symbol: string): {
    epochId: string | null;
    refreshTs: string | null;
    contracts: number;
    subscribed: string[];
    quotes: number;
    pending: number;
    liveSpot: number | null;
    snapshotSpot: number | null;
  } | null {
    const st = this.states.get(symbol);
    if (!st) return null;
    return {
      epochId: st.epochId,
      refreshTs: st.refreshTs,
      contracts: st.contracts,
      subscribed: [...st.chosen],
      quotes: st.quoted.size,
      pending: st.buffer.size,
      liveSpot: st.liveSpot,
      snapshotSpot: st.snapshotSpot,
    };
  }

  /**
   * A new session of `feed`'s connection went live: the server may number its messages afresh (the local
   * stream server starts every contract's `q` again on each connection), so the quote and trade marks of
   * the options feed are forgotten; without this every quote of the new session was dropped as
   * out_of_order until its `q` passed the old session's. The indices feed has no sequence check.
   *
   * Called on the connection's change to `live` (start-live.ts). Frames are handled in the order they were
   * received (stream-client.ts), so every frame of the previous socket, queued before this session's
   * `auth_success`, has reached {@link onEvents} already: none can raise a mark again after the reset.
   */
  newSession(feed: Feed): void {
    if (feed !== 'options') return;
    this.seq.reset();
    this.tradeSeq.reset();
  }

  /**
   * The stream's events (from either feed). Never throws on bad input. The counters are added once per
   * label per call (a frame of ~1,000 events), not once per event: prom-client hashes the labels on every
   * `inc`, a fifth of this loop's time at 20,000 quotes/s.
   */
  onEvents(feed: Feed, events: StreamEvent[], receivedAt: number): void {
    const { metrics } = this.deps;
    const seen = new Map<string, number>();
    const dropped = new Map<string, number>();
    const drop = (reason: string): void => {
      dropped.set(reason, (dropped.get(reason) ?? 0) + 1);
    };
    for (const e of events) {
      seen.set(e.ev, (seen.get(e.ev) ?? 0) + 1);
      if (e.ev === 'Q') {
        const st = this.owner.get(e.sym);
        if (!st) {
          drop('unknown_contract');
          continue;
        }
        // What the normalizer refuses in a REST snapshot is not applied either: the contract keeps its last
        // good quote (a crossed one wrote bid > ask with mid null and put the snapshot IV back).
        if (e.bp < 0 || e.ap < 0) {
          drop('negative_price');
          continue;
        }
        if (e.bp > 0 && e.ap > 0 && e.bp > e.ap) {
          drop('crossed_quote');
          continue;
        }
        const verdict = this.seq.check(e.sym, e.q);
        if (verdict !== 'accept') {
          drop(verdict);
          continue;
        }
        const before = st.buffer.overflow;
        st.buffer.put({ sym: e.sym, bid: e.bp, ask: e.ap, t: e.t, q: e.q, receivedAt });
        if (st.buffer.overflow > before) drop('overflow');
      } else if (e.ev === 'T') {
        const st = this.owner.get(e.sym);
        if (!st) {
          drop('unknown_contract');
          continue;
        }
        // A trade before the snapshot is in its day volume already.
        if (!(e.s > 0) || e.t < st.asOfMs) continue;
        const verdict = this.tradeSeq.check(e.sym, e.q);
        if (verdict !== 'accept') {
          drop(verdict);
          continue;
        }
        st.volumes.set(e.sym, (st.volumes.get(e.sym) ?? 0) + e.s);
        st.volumesReceivedAt ??= receivedAt;
      } else if (e.ev === 'V') {
        const st = this.byVendor.get(e.T);
        if (!st || !(e.val > 0) || e.t < st.asOfMs) continue;
        if (st.liveSpot !== e.val) {
          st.liveSpot = e.val;
          st.spotChanged = true;
          st.spotReceivedAt ??= receivedAt;
        }
        st.lastTickMs = Math.max(st.lastTickMs ?? 0, e.t);
      }
    }
    for (const [ev, n] of seen) metrics.streamMessages.inc({ feed, ev }, n);
    for (const [reason, n] of dropped) metrics.streamDropped.inc({ reason }, n);
  }

  /** Reloads the symbol's state when its active epoch changed or was refreshed by a REST snapshot. */
  private async follow(st: SymbolState): Promise<void> {
    const { logger, holds } = this.deps;
    const { epochs } = this;
    const held = !holds || holds(st.vendor);
    if (held !== st.held) {
      st.held = held;
      this.sendIndices();
    }
    if (!held) {
      // Another worker holds it (or nobody yet): no live state, no subscriptions, no build here.
      if (st.epochId !== null || st.chosen.length > 0) {
        this.dropLiveState(st);
        st.epochId = null;
        st.refreshTs = null;
        st.contracts = 0;
        st.snapshotSpot = null;
        this.sendOptions();
        logger.debug({ symbol: st.symbol }, 'live: symbol not held, streaming stopped');
      }
      return;
    }
    const epochId = await epochs.activeId(st.symbol);
    if (!epochId) return;
    const refreshTs = await epochs.refreshTs(epochId);
    if (epochId === st.epochId && refreshTs === st.refreshTs) {
      const spot = st.liveSpot ?? st.snapshotSpot;
      if (spot !== null && spotMovedFar(st.chosenSpot, spot, this.deps.config.streamResubscribePct)) {
        await this.choose(st, spot, true);
      }
      return;
    }
    const ids = await epochs.contractIds(epochId);
    const meta = await epochs.meta(epochId);
    if (ids === null || (meta.last_refresh_ts ?? '') !== refreshTs) return; // mid-write: next pass
    const raw = await epochs.substrateBytes(epochId, ids);
    // Parsed in the symbol's thread, which keeps them. A corrupt substrate fails the whole load, as the
    // builder's parse fails on it: no live build from this snapshot (the pass's catch), tried again next pass.
    const contracts = await st.thread.load(joinJsonArray(raw));
    const spot = Number(meta.spot);
    // The REST snapshot replaces the live state.
    st.epochId = epochId;
    st.refreshTs = refreshTs;
    st.contracts = contracts;
    st.snapshotSpot = spot > 0 ? spot : null;
    st.asOfMs = msOfSeconds(meta.as_of ?? meta.last_refresh_ts);
    this.dropLiveState(st);
    if (st.snapshotSpot !== null) await this.choose(st, st.snapshotSpot);
    logger.debug(
      { symbol: st.symbol, epochId, contracts, subscribed: st.chosen.length },
      'live: snapshot loaded',
    );
  }

  /** Drops what streamed since the snapshot (quotes, trades, live spot) and the symbol's subscriptions. */
  private dropLiveState(st: SymbolState): void {
    st.liveSpot = null;
    st.spotReceivedAt = null;
    st.spotChanged = false;
    st.quoted.clear();
    st.buffer.clear();
    st.volumes.clear();
    st.volumesReceivedAt = null;
    st.lastTickMs = null;
    this.forget(st, st.chosen);
    st.chosen = [];
  }

  /**
   * Contracts no longer subscribed: their owner, sequence marks and quotes go, the pending ones too (the
   * thread forgot their applied quotes; a pending one drained after this put it back, for good).
   */
  private forget(st: SymbolState, ids: readonly string[]): void {
    for (const id of ids) {
      if (this.owner.get(id) === st) this.owner.delete(id);
      st.quoted.delete(id);
    }
    st.buffer.delete(ids);
    this.seq.forget(ids);
    this.tradeSeq.forget(ids);
  }

  /**
   * Chooses the symbol's quoted contracts again and sends the union of every symbol's to the stream;
   * `liveSpot`: scored by the gammas at this (live) spot, not the snapshot's.
   */
  private async choose(st: SymbolState, spot: number, liveSpot = false): Promise<void> {
    const max = perSymbolBudget(this.deps.config.streamMaxContracts, this.states.size);
    const { chosen, gone } = await st.thread.choose({ spot, now: this.clock(), max, liveSpot });
    this.forget(st, gone);
    for (const id of chosen) this.owner.set(id, st);
    st.chosen = chosen;
    st.chosenSpot = spot;
    this.sendOptions();
  }

  /**
   * Sends the index values of the symbols held to the indices connection. With none held (nor any contract
   * chosen) the stream client has nothing to subscribe to and closes its connections (start-live.ts).
   */
  private sendIndices(): void {
    const params: string[] = [];
    for (const s of this.states.values()) if (s.held) params.push(`V.${s.vendor}`);
    this.deps.subscriber.setIndices(params);
  }

  /** Sends the union of every symbol's choice to the options connection. */
  private sendOptions(): void {
    // Quotes for the spot-weighted choice; trades for the day volume since the snapshot.
    const params: string[] = [];
    for (const s of this.states.values()) for (const id of s.chosen) params.push(`Q.${id}`, `T.${id}`);
    this.deps.subscriber.setOptions(params);
  }

  /** Builds and publishes the symbol's models if a quote, a trade or the spot changed. */
  private async build(st: SymbolState): Promise<LiveBuildOutcome | null> {
    const { bus, keys, config, metrics, logger } = this.deps;
    if (st.epochId === null) return null;
    const oldestQuote = st.buffer.oldestReceivedAt;
    const drained = st.buffer.drain();
    const volumes = [...st.volumes];
    const oldestTrade = st.volumesReceivedAt;
    st.volumes.clear();
    st.volumesReceivedAt = null;
    for (const q of drained) {
      st.quoted.add(q.sym);
      st.lastTickMs = Math.max(st.lastTickMs ?? 0, q.t);
    }
    const spotChanged = st.spotChanged;
    if (drained.length === 0 && volumes.length === 0 && !spotChanged) return null;
    const spot = st.liveSpot ?? st.snapshotSpot;
    if (spot === null) return null;
    const trigger: LiveTrigger = [
      drained.length > 0 ? 'quotes' : null,
      volumes.length > 0 ? 'trades' : null,
      spotChanged ? 'spot' : null,
    ]
      .filter((x) => x !== null)
      .join('+');
    const firstReceived = Math.min(
      oldestQuote ?? Infinity,
      oldestTrade ?? Infinity,
      spotChanged ? (st.spotReceivedAt ?? Infinity) : Infinity,
    );
    st.spotChanged = false;
    st.spotReceivedAt = null;

    // The clock for time to expiry; a replay's clock stands at the recording while its events move on.
    const now = Math.max(this.clock(), st.lastTickMs ?? 0);
    const epochId = st.epochId;
    const refreshTs = st.refreshTs;
    // The epoch's own header fields (provider, partial, missing expirations), as the snapshot build has them.
    const header = epochHeaderFields(await this.epochs.meta(epochId));
    const built = await st.thread.build({
      ...header,
      symbol: st.symbol,
      epochId,
      asOf: now,
      spot,
      ts: now,
      stale: false,
      widths: config.widths[st.symbol] ?? [5, 10, 15, 20],
      windowPct: config.heatmapWindowPct,
      quotes: drained.map((q) => ({ sym: q.sym, bid: q.bid, ask: q.ask, t: q.t })),
      volumes,
      live: {
        spot_source: st.liveSpot !== null ? 'stream' : 'snapshot',
        last_tick_ts: st.lastTickMs !== null ? new Date(st.lastTickMs).toISOString() : null,
      },
    });
    if (built.ivUnsolved > 0) metrics.streamIvUnsolved.inc({ symbol: st.symbol }, built.ivUnsolved);
    // A snapshot that landed during the build wins: its state is loaded on the next pass.
    const active = await this.epochs.activeId(st.symbol);
    const refreshNow = await this.epochs.refreshTs(epochId);
    const outcome: LiveBuildOutcome = {
      symbol: st.symbol,
      epochId,
      trigger,
      spot,
      streamed: built.streamed,
      applied: drained.length,
      published: false,
    };
    if (active !== epochId || refreshNow !== refreshTs || this.stopped) return outcome;
    const models: [ModelName, Uint8Array][] = [
      ['gex', built.gex],
      ['heatmap', built.heatmap],
    ];
    for (const [model, bytes] of models) {
      const key = keys.model(model, st.symbol);
      // setLarge: the client's SET copies a multi-MB value twice on the event loop (models/builder.ts).
      await bus.setLarge(
        key,
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        undefined,
        'models',
      );
      await bus.cmd.publish(
        keys.modelsChannel,
        JSON.stringify({
          model,
          symbol: st.symbol,
          epoch_id: epochId,
          ts: unixSeconds(now),
          key,
          trigger: 'stream',
          reason: trigger,
        }),
      );
    }
    outcome.published = true;
    for (const o of this.deps.observers ?? []) {
      await o
        .modelsPublished({
          underlying: st.symbol,
          symbol: st.vendor,
          epochId,
          ts: now,
          trigger: 'stream',
          spot,
          models: {
            gex: Buffer.from(built.gex.buffer, built.gex.byteOffset, built.gex.byteLength),
            heatmap: Buffer.from(built.heatmap.buffer, built.heatmap.byteOffset, built.heatmap.byteLength),
          },
        })
        .catch((err: unknown) =>
          logger.warn({ output: o.name, symbol: st.symbol, err: (err as Error).message }, 'output failed'),
        );
    }
    const tickToModelMs = Number.isFinite(firstReceived) ? Date.now() - firstReceived : null;
    if (tickToModelMs !== null)
      metrics.liveTickToModelSeconds.observe({ symbol: st.symbol }, tickToModelMs / 1000);
    metrics.liveBuilds.inc({ symbol: st.symbol, trigger });
    // Substrates: only the contracts whose quote or volume changed, once per build; TTLs are left as the
    // snapshot set them. Sent together: one connection's writes are pipelined by the client.
    await this.epochs.writeLiveSubstrates(epochId, built.substrates);
    await this.epochs.noteStream(epochId, unixSeconds(st.lastTickMs ?? now), drained.length);
    logger.debug(
      {
        symbol: st.symbol,
        trigger,
        spot,
        streamed: built.streamed,
        applied: drained.length,
        traded: volumes.length,
        tickToModelMs,
        threadMs: built.ms,
      },
      'live models published',
    );
    return outcome;
  }
}
