/**
 * @module One symbol's live state as its live thread keeps it: the active epoch's substrates (the base, from
 * the last REST snapshot), the quotes applied since, the day volume streamed since, and the contracts whose
 * substrate changed since the last write. The main thread sends only what arrived (coalesced quotes, volume
 * deltas) and the spot; hydration, the models and the JSON of the changed substrates are made here.
 * Pure apart from the clock it is given.
 */
import { buildModelsFrom, type BuildRequest } from '../models/build-models.js';
import type { LiveInfo } from '../models/types.js';
import type { ContractSubstrate } from '../normalizers/substrate.js';
import { hydrate, percentiles, type AppliedQuote } from './hydrate.js';
import { chooseSubscriptions } from './subscription.js';

/** A coalesced quote as the main thread sends it. */
export interface TickQuote extends AppliedQuote {
  sym: string;
}

export interface ChooseRequest {
  spot: number;
  /** Epoch ms. */
  now: number;
  max: number;
  /**
   * `spot` is a live spot (spot moved far since the last choice): every contract is scored by its gamma
   * there (hydrated: sticky-strike IV, or the live one), not by the snapshot's, which is at the snapshot's
   * spot and would choose the same contracts again.
   */
  liveSpot?: boolean;
}

export interface ChooseResult {
  chosen: string[];
  /** Contracts no longer chosen (their quotes are dropped: they return to the snapshot IV). */
  gone: string[];
}

export interface LiveBuildRequest extends Omit<BuildRequest, 'substrates' | 'live' | 'compat'> {
  /** The live spot (or the snapshot's when none streamed yet). */
  spot: number;
  /** Quotes since the last build (the latest per contract). */
  quotes: TickQuote[];
  /** Contracts traded since the last build: [ticker, contracts]. */
  volumes: [string, number][];
  /** The `live` header fields the main thread knows; the rest is computed here. */
  live: Pick<LiveInfo, 'spot_source' | 'last_tick_ts'>;
}

export interface LiveBuildResult {
  gex: Uint8Array;
  heatmap: Uint8Array;
  /** Contracts whose substrate changed since the last build: [ticker, substrate JSON]. */
  substrates: [string, string][];
  streamed: number;
  ivUnsolved: number;
  /** Work done here, ms. */
  ms: { hydrate: number; models: number; substrates: number };
}

export class LiveSymbol {
  /** Null until a snapshot is loaded: a thread started again after it died holds none, and must not build. */
  private base: ContractSubstrate[] | null = null;
  private chosen = new Set<string>();
  private readonly quotes = new Map<string, AppliedQuote>();
  private readonly volumes = new Map<string, number>();
  private readonly changed = new Set<string>();
  /** The last heatmap's size: the next is written into a buffer sized from it (models/heatmap/json.ts). */
  private lastHeatmapBytes: number | undefined;

  /** A REST snapshot: replaces the whole live state. Returns the number of contracts. */
  load(contracts: ContractSubstrate[]): number {
    this.base = contracts;
    this.chosen.clear();
    this.quotes.clear();
    this.volumes.clear();
    this.changed.clear();
    return contracts.length;
  }

  /** The loaded snapshot; throws when there is none (the main thread then reloads it). */
  private snapshot(): ContractSubstrate[] {
    if (this.base === null) throw new Error('live thread has no snapshot loaded');
    return this.base;
  }

  /** Forgets the snapshot and everything applied to it: no build until the next {@link load}. */
  unload(): void {
    this.base = null;
    this.chosen.clear();
    this.quotes.clear();
    this.volumes.clear();
    this.changed.clear();
  }

  /** Chooses the quoted contracts again (see subscription.ts); the quotes of the ones dropped are forgotten. */
  choose(req: ChooseRequest): ChooseResult {
    const base = this.snapshot();
    const candidates =
      req.liveSpot === true
        ? hydrate({ contracts: base, quotes: this.quotes, spot: req.spot, now: req.now }).contracts
        : base;
    const next = chooseSubscriptions(candidates, {
      spot: req.spot,
      now: req.now,
      max: req.max,
      current: this.chosen,
    });
    const nextSet = new Set(next);
    const gone = [...this.chosen].filter((id) => !nextSet.has(id));
    for (const id of gone) {
      if (this.quotes.delete(id)) this.changed.add(id);
    }
    this.chosen = nextSet;
    return { chosen: next, gone };
  }

  /** Applies what arrived, hydrates every contract at the live spot and builds both models. */
  build(req: LiveBuildRequest): LiveBuildResult {
    const base = this.snapshot();
    const t0 = performance.now();
    for (const q of req.quotes) {
      this.quotes.set(q.sym, { bid: q.bid, ask: q.ask, t: q.t });
      this.changed.add(q.sym);
    }
    for (const [sym, n] of req.volumes) {
      if (!(n > 0)) continue;
      this.volumes.set(sym, (this.volumes.get(sym) ?? 0) + n);
      this.changed.add(sym);
    }
    const now = req.asOf;
    const hydrated = hydrate({
      contracts: base,
      quotes: this.quotes,
      volumes: this.volumes,
      spot: req.spot,
      now,
    });
    const ages: number[] = [];
    for (const q of this.quotes.values()) ages.push(Math.max(0, now - q.t));
    const live: LiveInfo = {
      source: 'stream',
      spot_source: req.live.spot_source,
      last_tick_ts: req.live.last_tick_ts,
      streamed_contracts: hydrated.streamed,
      quote_age_ms: percentiles(ages),
    };
    const t1 = performance.now();
    const built = buildModelsFrom(hydrated.contracts, {
      ...req,
      live,
      lastHeatmapBytes: this.lastHeatmapBytes,
    });
    this.lastHeatmapBytes = built.heatmap.byteLength;
    const t2 = performance.now();
    const substrates: [string, string][] = [];
    if (this.changed.size > 0) {
      for (const c of hydrated.contracts) {
        if (this.changed.has(c.id)) substrates.push([c.id, JSON.stringify(c)]);
      }
      this.changed.clear();
    }
    return {
      gex: built.gex,
      heatmap: built.heatmap,
      substrates,
      streamed: hydrated.streamed,
      ivUnsolved: hydrated.ivUnsolved,
      ms: { hydrate: t1 - t0, models: t2 - t1, substrates: performance.now() - t2 },
    };
  }
}
