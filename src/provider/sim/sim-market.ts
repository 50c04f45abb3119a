/**
 * @module SimMarket: a deterministic, seeded index-option market (I:SPX, I:NDX) served as a MarketDataset.
 *
 * Time advances in ticks of `tickMs`; the generation is (config version, tick index). Chains are built
 * lazily per expiration from the tick's state and cached for the latest two generations only. Strike
 * ladders are centred on the spot at the start of the New York day, so listed strikes stay put all day.
 */
import { z } from 'zod';
import { nyDate, nyWallClockToUtc, yearsToSettlement } from '../../domain/market-time.js';
import type { ContractType } from '../massive/types.js';
import type { AdjustableDataset, ChainData, IndexSession } from '../local-api/dataset.js';
import { listExpirations, type ListedExpiration } from './calendar.js';
import { simContract, type ExpirationContext } from './contract.js';
import { isTradingDay, previousTradingDay } from './holidays.js';
import { hashOf } from './prng.js';
import { roundTo } from './rounding.js';
import { spotAt } from './spot-path.js';
import { strikeLadder } from './strikes.js';
import { SIM_UNDERLYINGS, simUnderlying, type SimUnderlying } from './underlyings.js';

export type OffHoursMode = 'normal' | 'empty' | 'thin';

/** Knobs that can change at runtime (`configure`, `POST /__admin/market`). */
export interface SimMarketKnobs {
  /** Contracts per expiration and root in normal mode (calls + puts). @defaultValue 200 */
  contractsPerExpiration: number;
  /** High-volatility day: the nearest `burstExpirations` expirations carry `burstContractsPerExpiration`. @defaultValue false */
  burst: boolean;
  /** `empty`: no expirations at all; `thin`: only the next 1–2 expirations with few strikes. @defaultValue 'normal' */
  offHours: OffHoursMode;
}

export interface SimMarketOptions extends Partial<SimMarketKnobs> {
  /** PRNG seed: the same seed and clock give byte-identical chains. @defaultValue 1 */
  seed?: number;
  /** Spot step period; the generation is the tick index. @defaultValue 5000 */
  tickMs?: number;
  /** Clock (epoch ms). @defaultValue Date.now */
  clock?: () => number;
  /** Contracts per root on each burst expiration. @defaultValue 2000 */
  burstContractsPerExpiration?: number;
  /** How many of the nearest expirations a burst inflates. @defaultValue 5 */
  burstExpirations?: number;
}

export const DEFAULT_SIM_SEED = 1;
export const DEFAULT_TICK_MS = 5000;
export const DEFAULT_CONTRACTS_PER_EXPIRATION = 200;
export const DEFAULT_BURST_CONTRACTS_PER_EXPIRATION = 2000;
export const DEFAULT_BURST_EXPIRATIONS = 5;
/** Thin (off-hours) chains: contracts per expiration and root. */
export const THIN_CONTRACTS_PER_EXPIRATION = 40;

/** Validates a runtime knob patch (unknown keys are rejected). */
export const simMarketPatchSchema = z.strictObject({
  contractsPerExpiration: z.number().int().min(2).max(20_000).optional(),
  burst: z.boolean().optional(),
  offHours: z.enum(['normal', 'empty', 'thin']).optional(),
});
export type SimMarketPatch = z.infer<typeof simMarketPatchSchema>;

/** Per (underlying, tick) state shared by every contract of that tick. */
interface TickState {
  asOfMs: number;
  spot: number;
  spotRatio: number;
  dayStartMs: number;
  /** Centre of the day's strike ladders: the spot at the start of the New York day, on the 3rd step. */
  ladderAnchor: number;
  tickHash: number;
  dayHash: number;
  underlyingAsset: ChainData['underlyingAsset'];
}

/** Generations (ticks) whose chains stay cached. */
const GENERATIONS_KEPT = 2;

export class SimMarket implements AdjustableDataset {
  readonly seed: number;
  readonly tickMs: number;
  private readonly clock: () => number;
  private readonly burstContracts: number;
  private readonly burstExpirations: number;
  private knobs: SimMarketKnobs;
  private version = 0;
  private readonly chains = new Map<number, Map<string, ChainData>>();
  private readonly listings = new Map<string, ListedExpiration[]>();
  private readonly ticks = new Map<string, TickState>();
  private readonly ladders = new Map<string, number[]>();

  constructor(opts: SimMarketOptions = {}) {
    this.seed = opts.seed ?? DEFAULT_SIM_SEED;
    this.tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
    if (!(this.tickMs >= 1)) throw new RangeError(`tickMs must be >= 1, got ${this.tickMs}`);
    this.clock = opts.clock ?? Date.now;
    this.burstContracts = opts.burstContractsPerExpiration ?? DEFAULT_BURST_CONTRACTS_PER_EXPIRATION;
    this.burstExpirations = opts.burstExpirations ?? DEFAULT_BURST_EXPIRATIONS;
    this.knobs = {
      contractsPerExpiration: opts.contractsPerExpiration ?? DEFAULT_CONTRACTS_PER_EXPIRATION,
      burst: opts.burst ?? false,
      offHours: opts.offHours ?? 'normal',
    };
    simMarketPatchSchema.parse(this.knobs);
  }

  now(): number {
    return this.clock();
  }

  underlyings(): string[] {
    return SIM_UNDERLYINGS.map((u) => u.symbol);
  }

  /** The tick index of an instant. */
  tickOf(now: number): number {
    return Math.floor(now / this.tickMs);
  }

  generation(now: number): string {
    return `${this.version}.${this.tickOf(now)}`;
  }

  expirations(underlying: string, now: number): string[] {
    const u = simUnderlying(underlying);
    return u ? this.listing(u, this.tickOf(now)).map((e) => e.date) : [];
  }

  chain(underlying: string, now: number, expiration?: string): ChainData | null {
    const u = simUnderlying(underlying);
    if (!u) return null;
    const tick = this.tickOf(now);
    const cache = this.generationCache(tick);
    const key = `${u.symbol}|${expiration ?? '*'}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const state = this.tickState(u, tick);
    const listing = this.listing(u, tick);
    let results: ChainData['results'];
    if (expiration === undefined) {
      results = listing.flatMap((e) => this.chain(underlying, now, e.date)?.results ?? []);
    } else {
      const index = listing.findIndex((e) => e.date === expiration);
      const listed = listing[index];
      results = listed ? this.buildExpiration(u, state, listed, this.contractsFor(index)) : [];
    }
    const data: ChainData = { underlyingAsset: state.underlyingAsset, results };
    cache.set(key, data);
    return data;
  }

  indexValue(ticker: string, now: number): number | null {
    const u = simUnderlying(ticker);
    return u ? this.tickState(u, this.tickOf(now)).spot : null;
  }

  /** Session figures of the last (or current) regular session, sampled every 5 minutes. */
  indexSession(ticker: string, now: number): IndexSession | null {
    const u = simUnderlying(ticker);
    if (!u) return null;
    const asOf = this.tickOf(now) * this.tickMs;
    let date = nyDate(asOf);
    if (!isTradingDay(date) || asOf < nyWallClockToUtc(date, 9, 30)) date = previousTradingDay(date);
    const openMs = nyWallClockToUtc(date, 9, 30);
    const endMs = Math.min(asOf, nyWallClockToUtc(date, 16, 0));
    const at = (ms: number): number => roundTo(this.spotAt(u, ms), 2);
    const open = at(openMs);
    const close = at(endMs);
    let high = Math.max(open, close);
    let low = Math.min(open, close);
    for (let ms = openMs + 300_000; ms < endMs; ms += 300_000) {
      const v = at(ms);
      high = Math.max(high, v);
      low = Math.min(low, v);
    }
    const previous = at(nyWallClockToUtc(previousTradingDay(date), 16, 0));
    const change = roundTo(close - previous, 2);
    return {
      change,
      change_percent: roundTo((change / previous) * 100, 3),
      close,
      high,
      low,
      open,
      previous_close: previous,
    };
  }

  /** Current knobs. */
  settings(): Record<string, unknown> {
    return { ...this.knobs, seed: this.seed, tickMs: this.tickMs };
  }

  /** Changes knobs at runtime; starts a new generation (cached chains are dropped). Returns the knobs. */
  configure(partial: SimMarketPatch): SimMarketKnobs {
    const next = { ...this.knobs };
    if (partial.contractsPerExpiration !== undefined)
      next.contractsPerExpiration = partial.contractsPerExpiration;
    if (partial.burst !== undefined) next.burst = partial.burst;
    if (partial.offHours !== undefined) next.offHours = partial.offHours;
    simMarketPatchSchema.parse(next);
    this.knobs = next;
    this.version++;
    this.chains.clear();
    this.listings.clear();
    return { ...this.knobs };
  }

  adjust(patch: unknown): Record<string, unknown> {
    this.configure(simMarketPatchSchema.parse(patch));
    return this.settings();
  }

  private contractsFor(index: number): number {
    if (this.knobs.offHours === 'thin') return THIN_CONTRACTS_PER_EXPIRATION;
    if (this.knobs.burst && index < this.burstExpirations) return this.burstContracts;
    return this.knobs.contractsPerExpiration;
  }

  private listing(u: SimUnderlying, tick: number): ListedExpiration[] {
    const key = `${this.version}|${u.symbol}|${tick}`;
    let listing = this.listings.get(key);
    if (!listing) {
      if (this.listings.size > 32) this.listings.clear();
      listing = listExpirations(u, tick * this.tickMs);
      if (this.knobs.offHours === 'empty') listing = [];
      else if (this.knobs.offHours === 'thin') listing = listing.slice(0, u.symbol === 'I:SPX' ? 2 : 1);
      this.listings.set(key, listing);
    }
    return listing;
  }

  /** The chain cache of one tick (the version is implied: `configure` empties every cache). */
  private generationCache(tick: number): Map<string, ChainData> {
    let cache = this.chains.get(tick);
    if (!cache) {
      cache = new Map();
      this.chains.set(tick, cache);
      // Keep the newest ticks: a late page of an old walk must not evict the current state.
      while (this.chains.size > GENERATIONS_KEPT) this.chains.delete(Math.min(...this.chains.keys()));
    }
    return cache;
  }

  /**
   * The index level at any instant (not only tick starts), to the cent: what the stream's `V` events carry.
   * At a tick start it equals {@link indexValue}, so streamed and snapshot spots agree.
   */
  liveSpot(ticker: string, ms: number): number | null {
    const u = simUnderlying(ticker);
    return u ? roundTo(this.spotAt(u, ms), 2) : null;
  }

  private spotAt(u: SimUnderlying, ms: number): number {
    return spotAt(u.baseSpot, u.spotVol, hashOf(this.seed, u.symbol, 'spot'), ms, this.tickMs);
  }

  private tickState(u: SimUnderlying, tick: number): TickState {
    const key = `${u.symbol}|${tick}`;
    let state = this.ticks.get(key);
    if (!state) {
      if (this.ticks.size > 16) this.ticks.clear();
      const asOfMs = tick * this.tickMs;
      const spot = roundTo(this.spotAt(u, asOfMs), 2);
      const date = nyDate(asOfMs);
      const dayStartMs = nyWallClockToUtc(date, 0, 0);
      const anchorStep = u.strikeSteps[2];
      state = {
        asOfMs,
        spot,
        spotRatio: spot / u.baseSpot,
        dayStartMs,
        ladderAnchor: Math.round(this.spotAt(u, dayStartMs) / anchorStep) * anchorStep,
        tickHash: hashOf(this.seed, u.symbol, 'tick', tick),
        dayHash: hashOf(this.seed, u.symbol, 'day', date),
        underlyingAsset: {
          last_updated: asOfMs * 1e6,
          timeframe: 'REAL-TIME',
          ticker: u.symbol,
          value: spot,
        },
      };
      this.ticks.set(key, state);
    }
    return state;
  }

  private ladder(u: SimUnderlying, anchor: number, strikes: number): number[] {
    const key = `${u.symbol}|${anchor}|${strikes}`;
    let ladder = this.ladders.get(key);
    if (!ladder) {
      if (this.ladders.size > 64) this.ladders.clear();
      ladder = strikeLadder(anchor, u.strikeSteps, strikes);
      this.ladders.set(key, ladder);
    }
    return ladder;
  }

  private buildExpiration(
    u: SimUnderlying,
    state: TickState,
    listed: ListedExpiration,
    contracts: number,
  ): ChainData['results'] {
    const strikes = this.ladder(u, state.ladderAnchor, Math.max(1, Math.round(contracts / 2)));
    const out: ChainData['results'] = [];
    for (const root of listed.roots) {
      const ctx: ExpirationContext = {
        u,
        root,
        expiration: listed.date,
        t: yearsToSettlement(state.asOfMs, listed.date, root),
        spot: state.spot,
        spotRatio: state.spotRatio,
        asOfMs: state.asOfMs,
        dayStartMs: state.dayStartMs,
        underlyingAsset: state.underlyingAsset,
        tickHash: state.tickHash,
        dayHash: state.dayHash,
        monthly: root === u.monthlyRoot,
      };
      for (const strike of strikes) {
        for (const type of CONTRACT_TYPES) out.push(simContract(ctx, type, strike));
      }
    }
    return out;
  }
}

const CONTRACT_TYPES: readonly ContractType[] = ['C', 'P'];
