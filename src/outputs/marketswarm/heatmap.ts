/**
 * @module MarketSwarm's heatmap tiles (`massive:heatmap:model:{symbol}:latest`): per DTE, butterfly and
 * vertical sides `{debit, max_profit, max_loss, market_debit}` and single sides `{mid, market_mid}`, keyed
 * `"{strategy}:{dte}:{width|0}:{int(strike)}"`. Pure.
 *
 * - `dte`: calendar days from the as-of date in New York to the expiration.
 * - `debit`: Black-Scholes at the expiration's ATM IV (the IV of the strike nearest spot, calls and puts
 *   averaged; an IV under MIN_IV, a failed solve, is none); `market_debit` from mids. A side with no mids
 *   has no `market_debit` (never 0); a side with neither (no IV or spot, and no mids) is left out.
 * - Market figures (`market_debit`, `market_mid`, and `debit` / `max_profit` / `mid` when they fall back to
 *   the market) as our own tiles: each mid in whole thousandths, the structure summed there, rounded half
 *   away from zero to cents (`2.675 − 2.65 = 0.025 → 0.03`). Black-Scholes figures are rounded as floats.
 * - Butterfly at centre K, width w: K−w, K, K+w. Vertical call: long K, short K+w; put: long K, short K−w.
 * - One root per date: the PM-settled root when it has contracts that date (SPXW over SPX).
 * - Centres are limited to `windowPct` percent of spot each side, both edges included (as our own heatmap,
 *   with its helpers: models/heatmap/window.ts); `windowPct` 0 (or negative, or not finite) means every
 *   strike. Without a spot the window cannot be placed: with `windowPct` > 0 there are no tiles.
 */
import { blackScholes } from '../../domain/black-scholes.js';
import { nyDate, settlementStyle, yearsToSettlement } from '../../domain/market-time.js';
import { MIN_IV } from '../../normalizers/bounds.js';
import type { ContractSubstrate } from '../../normalizers/substrate.js';
import type { ColumnSubstrate } from '../../models/substrate-columns.js';
import { contractMid } from '../../models/heatmap/mid.js';
import { centsIntOfMilli, milliOf } from '../../models/heatmap/tiles.js';
import { inWindow, strikeWindow, windowPctOf } from '../../models/heatmap/window.js';
import { strikeKey } from './gex.js';
import { byCodeUnit } from '../../lib/compare.js';

export interface SpreadSide {
  debit: number;
  max_profit: number;
  max_loss: number;
  market_debit?: number;
}

export interface SingleSide {
  mid: number;
  market_mid?: number;
}

export interface MarketSwarmTile {
  symbol: string;
  strategy: 'butterfly' | 'vertical' | 'single';
  dte: number;
  strike: number;
  width: number;
  call?: SpreadSide | SingleSide;
  put?: SpreadSide | SingleSide;
}

export interface MarketSwarmSurface {
  dtes_available: number[];
  dte_tile_counts: Record<string, number>;
  atm_iv: Record<string, number>;
  tiles: Record<string, MarketSwarmTile>;
}

/** The substrate fields MarketSwarm's outputs read (a full substrate, or one from the model thread's columns). */
export type MarketSwarmContract = ColumnSubstrate;

export interface SurfaceInput {
  contracts: readonly MarketSwarmContract[];
  /** Vendor form, e.g. `I:SPX`. */
  symbol: string;
  asOfMs: number;
  spot: number | null;
  widths: readonly number[];
  windowPct: number;
}

const DAY_MS = 86_400_000;

/** Calendar days from `fromDate` to `toDate` (both YYYY-MM-DD). */
export function calendarDays(fromDate: string, toDate: string): number {
  return Math.round((Date.parse(`${toDate}T00:00:00Z`) - Date.parse(`${fromDate}T00:00:00Z`)) / DAY_MS);
}

function cents(x: number): number {
  return Math.round(x * 100) / 100;
}

/** A market figure given in whole thousandths, to the cent half away from zero (our tiles' rounding). */
function marketCents(milli: number): number {
  return centsIntOfMilli(milli) / 100 + 0;
}

/** A leg's mid in whole thousandths, or null. */
function milliOrNull(mid: number | null): number | null {
  return mid === null ? null : milliOf(mid);
}

export interface Leg {
  mid: number | null;
  iv: number | null;
}

export interface DateChain {
  root: string;
  calls: Map<number, Leg>;
  puts: Map<number, Leg>;
}

function isCall(c: Pick<ContractSubstrate, 'type'>): boolean {
  return c.type === 'call' || (c.type as string) === 'C';
}

/** One root per date: the PM-settled root when it has contracts that date. */
export function chainsByDate(contracts: readonly MarketSwarmContract[]): Map<string, DateChain> {
  const roots = new Map<string, Map<string, MarketSwarmContract[]>>();
  for (const c of contracts) {
    let byRoot = roots.get(c.expiration);
    if (!byRoot) roots.set(c.expiration, (byRoot = new Map<string, MarketSwarmContract[]>()));
    const list = byRoot.get(c.root);
    if (list) list.push(c);
    else byRoot.set(c.root, [c]);
  }
  const out = new Map<string, DateChain>();
  for (const [date, byRoot] of roots) {
    const names = [...byRoot.keys()].sort(
      (a, b) =>
        (settlementStyle(a) === 'PM' ? 0 : 1) - (settlementStyle(b) === 'PM' ? 0 : 1) || byCodeUnit(a, b),
    );
    const root = names[0] as string;
    const chain: DateChain = { root, calls: new Map(), puts: new Map() };
    for (const c of byRoot.get(root) ?? []) {
      (isCall(c) ? chain.calls : chain.puts).set(c.strike, { mid: contractMid(c), iv: c.iv });
    }
    out.set(date, chain);
  }
  return out;
}

/**
 * The IV at the strike nearest spot that has a usable one (calls and puts averaged there): in
 * [{@link MIN_IV}, 5); under MIN_IV an IV is a failed solve, not a volatility (docs/models.md).
 */
export function atmIv(chain: Pick<DateChain, 'calls' | 'puts'>, spot: number): number | null {
  const strikes = [...new Set([...chain.calls.keys(), ...chain.puts.keys()])].sort(
    (a, b) => Math.abs(a - spot) - Math.abs(b - spot) || a - b,
  );
  for (const k of strikes) {
    const ivs = [chain.calls.get(k)?.iv, chain.puts.get(k)?.iv].filter(
      (v): v is number => typeof v === 'number' && Number.isFinite(v) && v >= MIN_IV && v < 5,
    );
    if (ivs.length > 0) return ivs.reduce((a, b) => a + b, 0) / ivs.length;
  }
  return null;
}

/**
 * A spread side's JSON (`{debit, max_profit, max_loss, market_debit?}`), or null when it has no price.
 * `theo` in dollars; `market` (from mids) in whole thousandths.
 */
function spreadSideJson(width: number, theo: number | null, market: number | null): string | null {
  let head: string;
  if (theo !== null) {
    if (!Number.isFinite(theo)) return null;
    const d = cents(theo);
    head = `{"debit":${d},"max_profit":${cents(width - theo)},"max_loss":${d}`;
  } else if (market !== null) {
    const d = marketCents(market);
    head = `{"debit":${d},"max_profit":${marketCents(milliOf(width) - market)},"max_loss":${d}`;
  } else return null;
  return market !== null ? `${head},"market_debit":${marketCents(market)}}` : `${head}}`;
}

/** The surface with each tile as its JSON text (what the document and the diffs carry), in key order. */
export interface MarketSwarmSurfaceJson {
  dtes_available: number[];
  dte_tile_counts: Record<string, number>;
  atm_iv: Record<string, number>;
  /** Tile key → tile JSON (`{symbol, dte, strike, strategy, width, call?, put?}`). */
  tiles: Map<string, string>;
}

/** Builds the surface for every expiration not already settled (objects; see {@link marketSwarmSurfaceJson}). */
export function marketSwarmSurface(i: SurfaceInput): MarketSwarmSurface {
  const s = marketSwarmSurfaceJson(i);
  const tiles: Record<string, MarketSwarmTile> = {};
  for (const [k, v] of s.tiles) tiles[k] = JSON.parse(v) as MarketSwarmTile;
  return { dtes_available: s.dtes_available, dte_tile_counts: s.dte_tile_counts, atm_iv: s.atm_iv, tiles };
}

/**
 * The surface with every tile written straight to JSON text: no tile objects, no per-tile
 * `JSON.stringify` (the model thread builds ~10,000 tiles per symbol and build).
 */
export function marketSwarmSurfaceJson(i: SurfaceInput): MarketSwarmSurfaceJson {
  const today = nyDate(i.asOfMs);
  const tiles = new Map<string, string>();
  const dteCounts: Record<string, number> = {};
  const atm: Record<string, number> = {};
  const dtes: number[] = [];
  const sym = JSON.stringify(i.symbol);
  const spot = i.spot !== null && Number.isFinite(i.spot) && i.spot > 0 ? i.spot : null;
  const pct = windowPctOf(i.windowPct);
  const window = spot === null ? null : strikeWindow(spot, pct);
  // Without a spot a window cannot be placed: no tiles (with 0 every strike, priced from mids).
  const chains = spot === null && pct > 0 ? new Map<string, DateChain>() : chainsByDate(i.contracts);
  for (const date of [...chains.keys()].sort()) {
    const chain = chains.get(date) as DateChain;
    const dte = calendarDays(today, date);
    const t = yearsToSettlement(i.asOfMs, date, chain.root);
    if (dte < 0 || !(t > 0)) continue;
    const iv = spot === null ? null : atmIv(chain, spot);
    if (iv !== null) atm[String(dte)] = Math.round(iv * 1e6) / 1e6;
    // One Black-Scholes price per (side, strike) and date: every structure reuses it.
    const theoCalls = new Map<number, number | null>();
    const theoPuts = new Map<number, number | null>();
    const theo = (side: 'C' | 'P', k: number): number | null => {
      const cache = side === 'C' ? theoCalls : theoPuts;
      let v = cache.get(k);
      if (v === undefined) {
        v = spot === null || iv === null ? null : blackScholes({ side, spot, strike: k, t, iv }).price;
        cache.set(k, v);
      }
      return v;
    };
    // A leg's mid in whole thousandths (market figures are summed there).
    const mid = (m: Map<number, Leg>, k: number): number | null => milliOrNull(m.get(k)?.mid ?? null);
    let count = 0;
    const put = (key: string, head: string, call: string | null, putSide: string | null): void => {
      if (call === null && putSide === null) return;
      let json = head;
      if (call !== null) json += `,"call":${call}`;
      if (putSide !== null) json += `,"put":${putSide}`;
      // A key met again (strikes 6850 and 6850.5 share `6850`) replaces its tile: one tile, counted once.
      if (!tiles.has(key)) count++;
      tiles.set(key, `${json}}`);
    };
    const strikes = [...new Set([...chain.calls.keys(), ...chain.puts.keys()])]
      .filter((k) => inWindow(window, k))
      .sort((a, b) => a - b);
    const sides = [
      [chain.calls, 'C'],
      [chain.puts, 'P'],
    ] as const;
    for (const k of strikes) {
      const base = `{"symbol":${sym},"dte":${dte},"strike":${k}`;
      const sk = strikeKey(k);
      // single
      const single: (string | null)[] = [null, null];
      sides.forEach(([legs, side], n) => {
        if (!legs.has(k)) return;
        const m = mid(legs, k);
        const t = theo(side, k);
        if (t === null && m === null) return;
        const value = t !== null ? cents(t) : marketCents(m as number);
        single[n] = m !== null ? `{"mid":${value},"market_mid":${marketCents(m)}}` : `{"mid":${value}}`;
      });
      put(
        `single:${dte}:0:${sk}`,
        `${base},"strategy":"single","width":0`,
        single[0] ?? null,
        single[1] ?? null,
      );
      for (const w of i.widths) {
        // butterfly: K−w, K, K+w on each side
        const fly: (string | null)[] = [null, null];
        sides.forEach(([legs, side], n) => {
          if (!legs.has(k - w) || !legs.has(k) || !legs.has(k + w)) return;
          const a = mid(legs, k - w);
          const b = mid(legs, k);
          const c = mid(legs, k + w);
          const market = a !== null && b !== null && c !== null ? a - 2 * b + c : null;
          const ta = theo(side, k - w);
          const tb = theo(side, k);
          const tc = theo(side, k + w);
          const th = ta !== null && tb !== null && tc !== null ? ta - 2 * tb + tc : null;
          fly[n] = spreadSideJson(w, th, market);
        });
        put(
          `butterfly:${dte}:${w}:${sk}`,
          `${base},"strategy":"butterfly","width":${w}`,
          fly[0] ?? null,
          fly[1] ?? null,
        );
        // vertical: call long K short K+w; put long K short K−w
        const vert: (string | null)[] = [null, null];
        sides.forEach(([legs, side], n) => {
          const shortK = side === 'C' ? k + w : k - w;
          if (!legs.has(k) || !legs.has(shortK)) return;
          const l = mid(legs, k);
          const s2 = mid(legs, shortK);
          const market = l !== null && s2 !== null ? l - s2 : null;
          const tl = theo(side, k);
          const ts2 = theo(side, shortK);
          const th = tl !== null && ts2 !== null ? tl - ts2 : null;
          vert[n] = spreadSideJson(w, th, market);
        });
        put(
          `vertical:${dte}:${w}:${sk}`,
          `${base},"strategy":"vertical","width":${w}`,
          vert[0] ?? null,
          vert[1] ?? null,
        );
      }
    }
    if (count > 0) {
      dtes.push(dte);
      dteCounts[String(dte)] = (dteCounts[String(dte)] ?? 0) + count;
    }
  }
  return {
    dtes_available: [...new Set(dtes)].sort((a, b) => a - b),
    dte_tile_counts: dteCounts,
    atm_iv: atm,
    tiles,
  };
}
