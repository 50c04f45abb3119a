/**
 * @module MarketSwarm's heatmap tiles (`massive:heatmap:model:{symbol}:latest`): per DTE, butterfly and
 * vertical sides `{debit, max_profit, max_loss, market_debit}` and single sides `{mid, market_mid}`, keyed
 * `"{strategy}:{dte}:{width|0}:{int(strike)}"`. Pure.
 *
 * - `dte`: calendar days from the as-of date in New York to the expiration.
 * - `debit`: Black-Scholes at the expiration's ATM IV (the IV of the strike nearest spot, calls and puts
 *   averaged); `market_debit` from mids. A side with no mids has no `market_debit` (never 0); a side with
 *   neither (no IV or spot, and no mids) is left out.
 * - Butterfly at centre K, width w: K−w, K, K+w. Vertical call: long K, short K+w; put: long K, short K−w.
 * - One root per date: the PM-settled root when it has contracts that date (SPXW over SPX).
 * - Centres are limited to `windowPct` percent of spot each side (as our own heatmap).
 */
import { blackScholes } from '../../domain/black-scholes.js';
import { nyDate, settlementStyle, yearsToSettlement } from '../../domain/market-time.js';
import type { ContractSubstrate } from '../../normalizers/substrate.js';
import { contractMid } from '../../models/heatmap/mid.js';
import { strikeKey } from './gex.js';

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

export interface SurfaceInput {
  contracts: readonly ContractSubstrate[];
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

interface Leg {
  mid: number | null;
  iv: number | null;
}

interface DateChain {
  root: string;
  calls: Map<number, Leg>;
  puts: Map<number, Leg>;
}

function isCall(c: Pick<ContractSubstrate, 'type'>): boolean {
  return c.type === 'call' || (c.type as string) === 'C';
}

/** One root per date: the PM-settled root when it has contracts that date. */
function chainsByDate(contracts: readonly ContractSubstrate[]): Map<string, DateChain> {
  const roots = new Map<string, Map<string, ContractSubstrate[]>>();
  for (const c of contracts) {
    let byRoot = roots.get(c.expiration);
    if (!byRoot) roots.set(c.expiration, (byRoot = new Map<string, ContractSubstrate[]>()));
    const list = byRoot.get(c.root);
    if (list) list.push(c);
    else byRoot.set(c.root, [c]);
  }
  const out = new Map<string, DateChain>();
  for (const [date, byRoot] of roots) {
    const names = [...byRoot.keys()].sort(
      (a, b) =>
        (settlementStyle(a) === 'PM' ? 0 : 1) - (settlementStyle(b) === 'PM' ? 0 : 1) || a.localeCompare(b),
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

/** The IV at the strike nearest spot that has one (calls and puts averaged there). */
export function atmIv(chain: Pick<DateChain, 'calls' | 'puts'>, spot: number): number | null {
  const strikes = [...new Set([...chain.calls.keys(), ...chain.puts.keys()])].sort(
    (a, b) => Math.abs(a - spot) - Math.abs(b - spot) || a - b,
  );
  for (const k of strikes) {
    const ivs = [chain.calls.get(k)?.iv, chain.puts.get(k)?.iv].filter(
      (v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 5,
    );
    if (ivs.length > 0) return ivs.reduce((a, b) => a + b, 0) / ivs.length;
  }
  return null;
}

function spreadSide(width: number, theo: number | null, market: number | null): SpreadSide | undefined {
  const debit = theo ?? market;
  if (debit === null || !Number.isFinite(debit)) return undefined;
  const side: SpreadSide = { debit: cents(debit), max_profit: cents(width - debit), max_loss: cents(debit) };
  if (market !== null && Number.isFinite(market)) side.market_debit = cents(market);
  return side;
}

/** Builds the surface for every expiration not already settled. */
export function marketSwarmSurface(i: SurfaceInput): MarketSwarmSurface {
  const today = nyDate(i.asOfMs);
  const tiles: Record<string, MarketSwarmTile> = {};
  const dteCounts: Record<string, number> = {};
  const atm: Record<string, number> = {};
  const dtes: number[] = [];
  const spot = i.spot !== null && Number.isFinite(i.spot) && i.spot > 0 ? i.spot : null;
  const lo = spot === null ? -Infinity : spot * (1 - i.windowPct / 100);
  const hi = spot === null ? Infinity : spot * (1 + i.windowPct / 100);
  const chains = chainsByDate(i.contracts);
  for (const date of [...chains.keys()].sort()) {
    const chain = chains.get(date) as DateChain;
    const dte = calendarDays(today, date);
    const t = yearsToSettlement(i.asOfMs, date, chain.root);
    if (dte < 0 || !(t > 0)) continue;
    const iv = spot === null ? null : atmIv(chain, spot);
    if (iv !== null) atm[String(dte)] = Math.round(iv * 1e6) / 1e6;
    // One Black-Scholes price per (side, strike) and date: every structure reuses it.
    const theoCache = new Map<string, number | null>();
    const theo = (side: 'C' | 'P', k: number): number | null => {
      const key = `${side}${k}`;
      let v = theoCache.get(key);
      if (v === undefined) {
        v = spot === null || iv === null ? null : blackScholes({ side, spot, strike: k, t, iv }).price;
        theoCache.set(key, v);
      }
      return v;
    };
    const mid = (m: Map<number, Leg>, k: number): number | null => m.get(k)?.mid ?? null;
    let count = 0;
    const put = (key: string, tile: MarketSwarmTile): void => {
      if (tile.call === undefined && tile.put === undefined) return;
      tiles[key] = tile;
      count++;
    };
    const strikes = [...new Set([...chain.calls.keys(), ...chain.puts.keys()])]
      .filter((k) => k >= lo && k <= hi)
      .sort((a, b) => a - b);
    for (const k of strikes) {
      const base = { symbol: i.symbol, dte, strike: k };
      // single
      const single: MarketSwarmTile = { ...base, strategy: 'single', width: 0 };
      for (const [name, legs, side] of [
        ['call', chain.calls, 'C'],
        ['put', chain.puts, 'P'],
      ] as const) {
        if (!legs.has(k)) continue;
        const m = mid(legs, k);
        const th = theo(side, k);
        const value = th ?? m;
        if (value === null) continue;
        const s: SingleSide = { mid: cents(value) };
        if (m !== null) s.market_mid = cents(m);
        single[name] = s;
      }
      put(`single:${dte}:0:${strikeKey(k)}`, single);
      for (const w of i.widths) {
        // butterfly: K−w, K, K+w on each side
        const fly: MarketSwarmTile = { ...base, strategy: 'butterfly', width: w };
        for (const [name, legs, side] of [
          ['call', chain.calls, 'C'],
          ['put', chain.puts, 'P'],
        ] as const) {
          if (!legs.has(k - w) || !legs.has(k) || !legs.has(k + w)) continue;
          const [a, b, c] = [mid(legs, k - w), mid(legs, k), mid(legs, k + w)];
          const market = a !== null && b !== null && c !== null ? a - 2 * b + c : null;
          const [ta, tb, tc] = [theo(side, k - w), theo(side, k), theo(side, k + w)];
          const th = ta !== null && tb !== null && tc !== null ? ta - 2 * tb + tc : null;
          const s = spreadSide(w, th, market);
          if (s) fly[name] = s;
        }
        put(`butterfly:${dte}:${w}:${strikeKey(k)}`, fly);
        // vertical: call long K short K+w; put long K short K−w
        const vert: MarketSwarmTile = { ...base, strategy: 'vertical', width: w };
        for (const [name, legs, side, shortK] of [
          ['call', chain.calls, 'C', k + w],
          ['put', chain.puts, 'P', k - w],
        ] as const) {
          if (!legs.has(k) || !legs.has(shortK)) continue;
          const [l, s2] = [mid(legs, k), mid(legs, shortK)];
          const market = l !== null && s2 !== null ? l - s2 : null;
          const [tl, ts2] = [theo(side, k), theo(side, shortK)];
          const th = tl !== null && ts2 !== null ? tl - ts2 : null;
          const s = spreadSide(w, th, market);
          if (s) vert[name] = s;
        }
        put(`vertical:${dte}:${w}:${strikeKey(k)}`, vert);
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
