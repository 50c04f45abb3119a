/** @module buildHeatmapModel: an epoch's contracts → the published butterfly / vertical / single heatmap. */
import { ascending } from '../../lib/compare.js';
import { settlementStyle } from '../../domain/market-time.js';
import type { ContractSubstrate } from '../../normalizers/substrate.js';
import { hasReadableIdentity, SettlementClock } from '../gex/eligibility.js';
import { level, modelHeader, modelSpot } from '../json-safe.js';
import type {
  ArbitrageFlag,
  HeatmapExpiration,
  HeatmapFlags,
  HeatmapInput,
  HeatmapLevels,
  HeatmapModel,
  HeatmapWindow,
  SingleTiles,
  Tile,
  TilesByStrikeWidth,
} from '../types.js';
import { callDensity } from './density.js';
import { contractMid } from './mid.js';
import { chooseRoot } from './root-choice.js';
import {
  butterflyTile,
  priceKey,
  quote,
  sideContext,
  singleTile,
  verticalTile,
  type Quote,
  type SideContext,
  type SideQuotes,
} from './tiles.js';
import { normalizeWidths } from './widths.js';
import { inWindow, strikeWindow, windowPctOf } from './window.js';

/** One root's usable contracts on one date. */
export interface RootChain {
  /** Readable, unexpired contracts, with a mid or not: decides the root. */
  count: number;
  calls: Map<number, Quote>;
  puts: Map<number, Quote>;
}

/** Readable, unexpired contracts by date then root; only those with a mid are quoted. */
function chainsByDate(
  contracts: readonly ContractSubstrate[],
  asOf: number,
): Map<string, Map<string, RootChain>> {
  const clock = new SettlementClock(asOf);
  const byDate = new Map<string, Map<string, RootChain>>();
  for (const c of contracts) {
    if (!hasReadableIdentity(c) || !(clock.yearsTo(c.root, c.expiration) > 0)) continue;
    let roots = byDate.get(c.expiration);
    if (roots === undefined) {
      roots = new Map();
      byDate.set(c.expiration, roots);
    }
    let chain = roots.get(c.root);
    if (chain === undefined) {
      chain = { count: 0, calls: new Map(), puts: new Map() };
      roots.set(c.root, chain);
    }
    chain.count++;
    const mid = contractMid(c);
    if (mid !== null)
      (c.type === 'call' ? chain.calls : chain.puts).set(priceKey(c.strike), quote(c.strike, mid));
  }
  return byDate;
}

/** Strikes of a side inside the window, ascending. */
export function centres(quotes: SideQuotes, window: HeatmapWindow | null): number[] {
  const out: number[] = [];
  for (const q of quotes.values()) if (inWindow(window, q.strike)) out.push(q.strike);
  return out.sort(ascending);
}

type TileAt = (quotes: SideQuotes, ctx: SideContext, strike: number, width: number) => Tile | null;

/** `{strike: {width: tile}}` for one side and one structure; strikes without any tile are left out. */
function gridOf(
  make: TileAt,
  quotes: SideQuotes,
  ctx: SideContext,
  strikes: readonly number[],
  widths: readonly number[],
): { grid: TilesByStrikeWidth; tiles: number } {
  const grid: TilesByStrikeWidth = {};
  let tiles = 0;
  for (const strike of strikes) {
    let row: Record<string, Tile> | undefined;
    for (const width of widths) {
      const tile = make(quotes, ctx, strike, width);
      if (tile === null) continue;
      row ??= grid[String(strike)] = {};
      row[String(width)] = tile;
      tiles++;
    }
  }
  return { grid, tiles };
}

/** Tiles of a grid that satisfy `bad`, as flags. */
function flagged(
  grid: TilesByStrikeWidth,
  type: 'call' | 'put',
  bad: (value: number, width: number) => boolean,
): ArbitrageFlag[] {
  const out: ArbitrageFlag[] = [];
  for (const [strike, row] of Object.entries(grid)) {
    for (const [width, tile] of Object.entries(row)) {
      if (bad(tile.value, Number(width))) {
        out.push({ type, strike: Number(strike), width: Number(width), value: tile.value });
      }
    }
  }
  return out.sort(byStrikeWidthType);
}

/** Negative butterflies and verticals worth more than their width. */
function arbitrageFlags(
  fly: HeatmapExpiration['butterfly'],
  vertical: HeatmapExpiration['vertical'],
): HeatmapFlags {
  const negative = (v: number): boolean => v < 0;
  const over = (v: number, w: number): boolean => v > w;
  return {
    negative_butterfly: [...flagged(fly.call, 'call', negative), ...flagged(fly.put, 'put', negative)],
    vertical_over_width: [...flagged(vertical.call, 'call', over), ...flagged(vertical.put, 'put', over)],
  };
}

/** One date's tiles from one root; null when it has none. */
function expirationTiles(
  expiration: string,
  root: string,
  chain: RootChain,
  widths: readonly number[],
  window: HeatmapWindow | null,
  spot: number | null,
  levels: HeatmapLevels | null,
): HeatmapExpiration | null {
  const calls = sideContext(root, expiration, 'C');
  const puts = sideContext(root, expiration, 'P');
  const callStrikes = centres(chain.calls, window);
  const putStrikes = centres(chain.puts, window);
  const flyCall = gridOf(butterflyTile, chain.calls, calls, callStrikes, widths);
  const flyPut = gridOf(butterflyTile, chain.puts, puts, putStrikes, widths);
  const vertCall = gridOf(verticalTile, chain.calls, calls, callStrikes, widths);
  const vertPut = gridOf(verticalTile, chain.puts, puts, putStrikes, widths);

  const single: Record<string, SingleTiles> = {};
  const singleStrikes = [...new Set([...callStrikes, ...putStrikes])].sort(ascending);
  for (const strike of singleStrikes) {
    const call = singleTile(chain.calls, calls, strike);
    const put = singleTile(chain.puts, puts, strike);
    if (call === null && put === null) continue;
    const tiles: SingleTiles = {};
    if (call !== null) tiles.call = call;
    if (put !== null) tiles.put = put;
    single[String(strike)] = tiles;
  }

  const count = flyCall.tiles + flyPut.tiles + vertCall.tiles + vertPut.tiles + Object.keys(single).length;
  if (count === 0) return null;
  const butterfly = { call: flyCall.grid, put: flyPut.grid };
  const vertical = { call: vertCall.grid, put: vertPut.grid };
  return {
    root,
    settlement: settlementStyle(root),
    butterfly,
    vertical,
    single,
    density: callDensity(chain.calls, window, spot, levels),
    flags: arbitrageFlags(butterfly, vertical),
  };
}

/** One date to build: the root chosen for it, its chain and the same date's GEX levels. */
export interface HeatmapDate {
  expiration: string;
  root: string;
  chain: RootChain;
  levels: HeatmapLevels | null;
}

/** The model with no expirations yet, what every date's tiles need, and the dates (ascending). */
export interface HeatmapFrame {
  model: HeatmapModel;
  widths: number[];
  window: HeatmapWindow | null;
  spot: number | null;
  dates: HeatmapDate[];
}

/** The header, widths and window of the model, and the dates to build (none without a usable spot and a window). */
export function heatmapFrame(input: HeatmapInput): HeatmapFrame {
  const spot = modelSpot(input);
  const widths = normalizeWidths(input.widths);
  const windowPct = windowPctOf(input.windowPct);
  const window = spot === null ? null : strikeWindow(spot, windowPct);
  const { version, ...header } = modelHeader(input);
  const model: HeatmapModel = {
    version,
    model: 'heatmap',
    ...header,
    widths,
    window_pct: windowPct,
    window: window === null ? null : { low: level(window.low) ?? 0, high: level(window.high) ?? 0 },
    expirations: {},
    flags: { negative_butterfly: 0, vertical_over_width: 0 },
  };
  const dates: HeatmapDate[] = [];
  if (spot === null && windowPct > 0) return { model, widths, window, spot, dates };
  const byDate = chainsByDate(input.contracts, input.asOf);
  for (const expiration of [...byDate.keys()].sort()) {
    const roots = byDate.get(expiration) as Map<string, RootChain>;
    const root = chooseRoot(new Map([...roots].map(([r, chain]) => [r, chain.count])));
    const chain = root === null ? undefined : roots.get(root);
    if (root === null || chain === undefined) continue;
    dates.push({ expiration, root, chain, levels: input.levels?.get(expiration) ?? null });
  }
  return { model, widths, window, spot, dates };
}

/**
 * Builds the heatmap model of one epoch. Pure: the same input always gives the same model.
 *
 * Per expiration date one root is used ({@link chooseRoot}: PM-settled first). Expired contracts and
 * contracts without a mid are left out, so a tile needing one is absent, never priced at 0. Without
 * a usable spot the window cannot be placed: with `windowPct > 0` the model has no tiles. The published
 * JSON is written without this object tree by `heatmapModelJson` (json.ts), to the same bytes.
 *
 * @example
 * const model = buildHeatmapModel({ ...input, widths: DEFAULT_HEATMAP_WIDTHS.SPX, windowPct: 5 });
 * model.expirations['2026-01-16']?.butterfly.call['6850']?.['25']?.description;
 * // 'BUY 1 SPXW 16JAN26 6825/6850/6875 CALL BUTTERFLY @ 2.35 DEBIT'
 */
export function buildHeatmapModel(input: HeatmapInput): HeatmapModel {
  const { model, widths, window, spot, dates } = heatmapFrame(input);
  for (const d of dates) {
    const tiles = expirationTiles(d.expiration, d.root, d.chain, widths, window, spot, d.levels);
    if (tiles === null) continue;
    model.expirations[d.expiration] = tiles;
    model.flags.negative_butterfly += tiles.flags.negative_butterfly.length;
    model.flags.vertical_over_width += tiles.flags.vertical_over_width.length;
  }
  return model;
}

/** Strike, then width, then type (a module-level comparator: lib/shape-anchors.ts). */
function byStrikeWidthType(
  a: { strike: number; width: number; type: string },
  b: { strike: number; width: number; type: string },
): number {
  return a.strike - b.strike || a.width - b.width || (a.type < b.type ? -1 : 1);
}
