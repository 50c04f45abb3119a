/**
 * @module The live chain: streamed quotes and index values hydrate each symbol's active epoch between REST
 * snapshots, and GEX and the heatmap are rebuilt from it at most `CHAIN_LIVE_MODEL_HZ` times a second per
 * symbol, only when something changed, on the model thread, and published to the same keys.
 *
 * The REST snapshot stays the source of truth: a new active epoch, or a refresh of the active one (its
 * `last_refresh_ts` moved), replaces the live state (quotes applied, live spot) and the subscriptions are
 * chosen again. A stream update never changes geometry.
 */
import type { Config } from '../config/load.js';
import type { Logger } from '../lib/logger.js';
import { msOfSeconds, unixSeconds } from '../lib/time.js';
import { ModelThread } from '../models/model-thread.js';
import { epochHeaderFields } from '../models/builder.js';
import type { LiveInfo } from '../models/types.js';
import type { ContractSubstrate } from '../normalizers/substrate.js';
import type { Feed, StreamEvent } from '../provider/massive/stream-protocol.js';
import type { RedisBus } from '../redis/bus.js';
import { underlyingOf, type KeySchema, type ModelName } from '../redis/keys.js';
import type { Metrics } from '../serving/metrics.js';
import { hydrate, percentiles, type AppliedQuote } from './hydrate.js';
import { QuoteBuffer } from './quote-buffer.js';
import { SequenceTracker } from './sequence.js';
import { chooseSubscriptions, perSymbolBudget, spotMovedFar } from './subscription.js';

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
}

export type LiveTrigger = 'quotes' | 'spot' | 'quotes+spot';

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
  base: ContractSubstrate[];
  snapshotSpot: number | null;
  /** Snapshot as-of, epoch ms. */
  asOfMs: number;
  liveSpot: number | null;
  spotReceivedAt: number | null;
  spotChanged: boolean;
  quotes: Map<string, AppliedQuote>;
  buffer: QuoteBuffer;
  chosen: string[];
  chosenSpot: number;
  /** Contracts whose substrate changed since the last write. */
  changed: Set<string>;
  /** Newest vendor time applied, epoch ms. */
  lastTickMs: number | null;
}

/** Per-symbol live state and its build loop. */
export class LiveChain {
  private readonly states = new Map<string, SymbolState>();
  /** Option ticker → its symbol's state (the subscribed ones). */
  private readonly owner = new Map<string, SymbolState>();
  private readonly byVendor = new Map<string, SymbolState>();
  private readonly seq = new SequenceTracker();
  private readonly thread = new ModelThread();
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: LiveChainDeps) {
    this.clock = deps.clock ?? Date.now;
    const budget = perSymbolBudget(deps.config.streamMaxContracts, deps.config.symbols.length);
    for (const vendor of deps.config.symbols) {
      const st: SymbolState = {
        symbol: underlyingOf(vendor),
        vendor,
        epochId: null,
        refreshTs: null,
        base: [],
        snapshotSpot: null,
        asOfMs: 0,
        liveSpot: null,
        spotReceivedAt: null,
        spotChanged: false,
        quotes: new Map(),
        buffer: new QuoteBuffer(Math.max(1, budget)),
        chosen: [],
        chosenSpot: 0,
        changed: new Set(),
        lastTickMs: null,
      };
      this.states.set(st.symbol, st);
      this.byVendor.set(vendor, st);
    }
    deps.subscriber.setIndices(deps.config.symbols.map((s) => `V.${s}`));
  }

  /** Starts the build loop (every 1 / `CHAIN_LIVE_MODEL_HZ` s). */
  start(): void {
    const period = Math.max(50, Math.round(1000 / this.deps.config.liveModelHz));
    this.timer = setInterval(() => this.kick(), period);
    this.kick();
  }

  private kick(): void {
    if (this.stopped || this.running) return;
    this.running = this.step()
      .then(() => undefined)
      .catch((err: unknown) => this.deps.logger.warn({ err: (err as Error).message }, 'live build failed'))
      .finally(() => {
        this.running = undefined;
      });
  }

  /** One pass: follow each symbol's active epoch, then build what changed. */
  async step(): Promise<LiveBuildOutcome[]> {
    const out: LiveBuildOutcome[] = [];
    for (const st of this.states.values()) {
      await this.follow(st);
      const r = await this.build(st);
      if (r) out.push(r);
    }
    return out;
  }

  /** Stops the loop and the model thread. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.thread.close();
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
      contracts: st.base.length,
      subscribed: [...st.chosen],
      quotes: st.quotes.size,
      pending: st.buffer.size,
      liveSpot: st.liveSpot,
      snapshotSpot: st.snapshotSpot,
    };
  }

  /** The stream's events (from either feed). Never throws on bad input. */
  onEvents(feed: Feed, events: StreamEvent[], receivedAt: number): void {
    const { metrics } = this.deps;
    for (const e of events) {
      metrics.streamMessages.inc({ feed, ev: e.ev });
      if (e.ev === 'Q') {
        const st = this.owner.get(e.sym);
        if (!st) {
          metrics.streamDropped.inc({ reason: 'unknown_contract' });
          continue;
        }
        const verdict = this.seq.check(e.sym, e.q);
        if (verdict !== 'accept') {
          metrics.streamDropped.inc({ reason: verdict });
          continue;
        }
        const before = st.buffer.overflow;
        st.buffer.put({ sym: e.sym, bid: e.bp, ask: e.ap, t: e.t, q: e.q, receivedAt });
        if (st.buffer.overflow > before) metrics.streamDropped.inc({ reason: 'overflow' });
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
  }

  /** Reloads the symbol's state when its active epoch changed or was refreshed by a REST snapshot. */
  private async follow(st: SymbolState): Promise<void> {
    const { bus, keys, logger } = this.deps;
    const epochId = await bus.cmd.hget(keys.epochActive, st.symbol);
    if (!epochId) return;
    const refreshTs = await bus.cmd.hget(keys.epochMeta(epochId), 'last_refresh_ts');
    if (epochId === st.epochId && refreshTs === st.refreshTs) {
      const spot = st.liveSpot ?? st.snapshotSpot;
      if (spot !== null && spotMovedFar(st.chosenSpot, spot, this.deps.config.streamResubscribePct)) {
        this.choose(st, spot);
      }
      return;
    }
    const idsRaw = await bus.cmd.get(keys.epochContracts(epochId));
    const meta = await bus.cmd.hgetall(keys.epochMeta(epochId));
    if (idsRaw === null || meta.last_refresh_ts !== refreshTs) return; // mid-write: next pass
    const ids = JSON.parse(idsRaw) as string[];
    const raw = await bus.getManyBuffers(ids.map((id) => keys.epochContract(epochId, id)));
    const base: ContractSubstrate[] = [];
    for (const b of raw) {
      if (b === null) continue;
      try {
        base.push(JSON.parse(b.toString('utf8')) as ContractSubstrate);
      } catch {
        // a corrupt substrate is left out, as the builder's parse would fail on it
      }
    }
    const spot = Number(meta.spot);
    // The REST snapshot replaces the live state.
    st.epochId = epochId;
    st.refreshTs = refreshTs;
    st.base = base;
    st.snapshotSpot = spot > 0 ? spot : null;
    st.asOfMs = msOfSeconds(meta.as_of ?? meta.last_refresh_ts);
    st.liveSpot = null;
    st.spotReceivedAt = null;
    st.spotChanged = false;
    st.quotes.clear();
    st.buffer.clear();
    st.changed.clear();
    st.lastTickMs = null;
    if (st.snapshotSpot !== null) this.choose(st, st.snapshotSpot);
    logger.debug(
      { symbol: st.symbol, epochId, contracts: base.length, subscribed: st.chosen.length },
      'live: snapshot loaded',
    );
  }

  /** Chooses the symbol's quoted contracts again and sends the union of every symbol's to the stream. */
  private choose(st: SymbolState, spot: number): void {
    const max = perSymbolBudget(this.deps.config.streamMaxContracts, this.states.size);
    const next = chooseSubscriptions(st.base, { spot, now: this.clock(), max, current: new Set(st.chosen) });
    const nextSet = new Set(next);
    const gone = st.chosen.filter((id) => !nextSet.has(id));
    for (const id of gone) {
      this.owner.delete(id);
      st.quotes.delete(id);
    }
    this.seq.forget(gone);
    for (const id of next) this.owner.set(id, st);
    st.chosen = next;
    st.chosenSpot = spot;
    const params: string[] = [];
    for (const s of this.states.values()) for (const id of s.chosen) params.push(`Q.${id}`);
    this.deps.subscriber.setOptions(params);
  }

  /** Builds and publishes the symbol's models if a quote or the spot changed. */
  private async build(st: SymbolState): Promise<LiveBuildOutcome | null> {
    const { bus, keys, config, metrics, logger } = this.deps;
    if (st.epochId === null) return null;
    const oldestQuote = st.buffer.oldestReceivedAt;
    const drained = st.buffer.drain();
    for (const q of drained) {
      st.quotes.set(q.sym, { bid: q.bid, ask: q.ask, t: q.t });
      st.changed.add(q.sym);
      st.lastTickMs = Math.max(st.lastTickMs ?? 0, q.t);
    }
    const spotChanged = st.spotChanged;
    if (drained.length === 0 && !spotChanged) return null;
    const spot = st.liveSpot ?? st.snapshotSpot;
    if (spot === null) return null;
    const trigger: LiveTrigger =
      drained.length > 0 && spotChanged ? 'quotes+spot' : drained.length > 0 ? 'quotes' : 'spot';
    const firstReceived = Math.min(
      oldestQuote ?? Infinity,
      spotChanged ? (st.spotReceivedAt ?? Infinity) : Infinity,
    );
    st.spotChanged = false;
    st.spotReceivedAt = null;

    const now = this.clock();
    const epochId = st.epochId;
    const refreshTs = st.refreshTs;
    const hydrated = hydrate({ contracts: st.base, quotes: st.quotes, spot, now });
    if (hydrated.ivUnsolved > 0) metrics.streamIvUnsolved.inc({ symbol: st.symbol }, hydrated.ivUnsolved);
    const ages: number[] = [];
    for (const q of st.quotes.values()) ages.push(Math.max(0, now - q.t));
    const live: LiveInfo = {
      source: 'stream',
      spot_source: st.liveSpot !== null ? 'stream' : 'snapshot',
      last_tick_ts: st.lastTickMs !== null ? new Date(st.lastTickMs).toISOString() : null,
      streamed_contracts: hydrated.streamed,
      quote_age_ms: percentiles(ages),
    };
    // Hydration and the JSON below are the main thread's share of a build: a turn of the loop between them
    // halves the longest block on a large chain.
    await new Promise<void>((r) => setImmediate(r));
    const substrates = new TextEncoder().encode(JSON.stringify(hydrated.contracts));
    // The epoch's own header fields (provider, partial, missing expirations), as the snapshot build has them.
    const header = epochHeaderFields(await bus.cmd.hgetall(keys.epochMeta(epochId)));
    const built = await this.thread.build({
      ...header,
      symbol: st.symbol,
      epochId,
      asOf: now,
      spot,
      ts: now,
      stale: false,
      widths: config.widths[st.symbol] ?? [5, 10, 15, 20],
      windowPct: config.heatmapWindowPct,
      substrates,
      live,
    });
    // A snapshot that landed during the build wins: its state is loaded on the next pass.
    const active = await bus.cmd.hget(keys.epochActive, st.symbol);
    const refreshNow = await bus.cmd.hget(keys.epochMeta(epochId), 'last_refresh_ts');
    const outcome: LiveBuildOutcome = {
      symbol: st.symbol,
      epochId,
      trigger,
      spot,
      streamed: hydrated.streamed,
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
      await bus.cmd.set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
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
    const tickToModelMs = Number.isFinite(firstReceived) ? Date.now() - firstReceived : null;
    if (tickToModelMs !== null)
      metrics.liveTickToModelSeconds.observe({ symbol: st.symbol }, tickToModelMs / 1000);
    metrics.liveBuilds.inc({ symbol: st.symbol, trigger });
    // Substrates: only the contracts whose quote changed, once per build; TTLs are left as the snapshot set them.
    if (st.changed.size > 0) {
      const byId = new Map(hydrated.contracts.map((c) => [c.id, c]));
      const writes: Promise<unknown>[] = [];
      for (const id of st.changed) {
        const c = byId.get(id);
        if (c) writes.push(bus.cmd.set(keys.epochContract(epochId, id), JSON.stringify(c), 'KEEPTTL'));
      }
      st.changed.clear();
      // Sent together: one connection's writes are pipelined by the client.
      await Promise.all(writes);
    }
    await bus.cmd.hset(keys.epochMeta(epochId), 'last_stream_ts', unixSeconds(st.lastTickMs ?? now));
    if (drained.length > 0) await bus.cmd.hincrby(keys.epochMeta(epochId), 'stream_updates', drained.length);
    logger.debug(
      {
        symbol: st.symbol,
        trigger,
        spot,
        streamed: hydrated.streamed,
        applied: drained.length,
        tickToModelMs,
      },
      'live models published',
    );
    return outcome;
  }
}
