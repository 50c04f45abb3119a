/**
 * @module Heatmap diffs: what changed between two published heatmap models, in the model's own shape,
 * so the SSE stream can send a few changed tiles instead of a multi-megabyte document (the `heatmap_diff`
 * event, docs/serving.md). Pure: {@link diffHeatmap} and {@link applyHeatmapDiff} (the dashboard applies
 * the same rules in the browser).
 */
import type {
  HeatmapExpiration,
  HeatmapModel,
  SingleTiles,
  Tile,
  TilesByStrikeWidth,
} from '../../models/types.js';

/** The structures keyed `{side: {strike: {width: tile}}}`. */
export const GRID_STRATEGIES = ['butterfly', 'vertical'] as const;
type GridStrategy = (typeof GRID_STRATEGIES)[number];
type Side = 'call' | 'put';
const SIDES: readonly Side[] = ['call', 'put'];

/** One expiration's changes: changed tiles in place, and any non-tile field (root, density, flags) whole. */
export interface ExpirationChange {
  butterfly?: Partial<Record<Side, TilesByStrikeWidth>>;
  vertical?: Partial<Record<Side, TilesByStrikeWidth>>;
  single?: Record<string, SingleTiles>;
  root?: string;
  settlement?: HeatmapExpiration['settlement'];
  density?: HeatmapExpiration['density'];
  flags?: HeatmapExpiration['flags'];
}

/** One expiration's repriced tiles: the new value of tiles whose legs did not change. */
export interface ExpirationValues {
  butterfly?: Partial<Record<Side, Record<string, Record<string, number>>>>;
  vertical?: Partial<Record<Side, Record<string, Record<string, number>>>>;
  single?: Record<string, Partial<Record<Side, number>>>;
}

/**
 * A removed tile: `[date, "butterfly"|"vertical", side, strike, width]` or `[date, "single", strike, side]`.
 */
export type RemovedTile = [string, GridStrategy, Side, string, string] | [string, 'single', string, Side];

export interface HeatmapDiff {
  symbol: string;
  epoch_id: string;
  /** The version this diff applies to: a client holding another one refetches the document. */
  base: { epoch_id: string; ts: string | null };
  /** The new version's publish time (equal to `header.ts`). */
  ts: string | null;
  /**
   * Every top-level field of the new model except `expirations` (small: spot, live, flags, …); a field
   * the held version has and this lacks is one the new version dropped.
   */
  header: Record<string, unknown>;
  /**
   * Per date, tiles whose legs are the same and only the price moved: the new value alone (the
   * description's price part, `@ 2.35 DEBIT`, follows it: {@link repriceDescription}). Most of a live
   * update: a spot move reprices nearly every tile.
   */
  values: Record<string, ExpirationValues>;
  /** Per date, the tiles that are new or otherwise changed (and the date's other fields when they changed). */
  changed: Record<string, ExpirationChange>;
  removed: RemovedTile[];
  /** Dates the new version no longer has (their tiles are not listed in `removed`). */
  removed_expirations: string[];
  /** Tiles in `values`, `changed` and `removed`, counted. */
  counts: { repriced: number; changed: number; removed: number };
}

function sameTile(a: Tile, b: Tile): boolean {
  return a.value === b.value && a.description === b.description;
}

/** The order's price part, as the heatmap model writes it (`src/models/heatmap/description.ts`). */
function orderPrice(value: number): string {
  return ` @ ${Math.abs(value).toFixed(2)} ${value > 0 ? 'DEBIT' : value < 0 ? 'CREDIT' : 'EVEN'}`;
}

/** A description with its price part changed to `value` (null when it does not end with the old one). */
export function repriceDescription(description: string, oldValue: number, value: number): string | null {
  const old = orderPrice(oldValue);
  return description.endsWith(old) ? description.slice(0, -old.length) + orderPrice(value) : null;
}

/** True when `next` is `prev` with another price: same legs, description repriced. */
function repriced(prev: Tile, next: Tile): boolean {
  return (
    prev.legs.length === next.legs.length &&
    prev.legs.every((l, i) => {
      const n = next.legs[i];
      return n !== undefined && n.strike === l.strike && n.type === l.type && n.qty === l.qty;
    }) &&
    repriceDescription(prev.description, prev.value, next.value) === next.description
  );
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function emptyExpiration(): HeatmapExpiration {
  return {
    root: '',
    settlement: 'PM',
    butterfly: { call: {}, put: {} },
    vertical: { call: {}, put: {} },
    single: {},
    density: null,
    flags: { negative_butterfly: [], vertical_over_width: [] },
  };
}

/** What changed from `prev` to `next` (two versions of one symbol's heatmap). */
export function diffHeatmap(prev: HeatmapModel, next: HeatmapModel): HeatmapDiff {
  const { expirations: _e, ...header } = next;
  const diff: HeatmapDiff = {
    symbol: next.symbol,
    epoch_id: next.epoch_id,
    base: { epoch_id: prev.epoch_id, ts: prev.ts },
    ts: next.ts,
    header,
    values: {},
    changed: {},
    removed: [],
    removed_expirations: Object.keys(prev.expirations).filter((d) => !(d in next.expirations)),
    counts: { repriced: 0, changed: 0, removed: 0 },
  };
  for (const [date, n] of Object.entries(next.expirations)) {
    const p = prev.expirations[date] ?? emptyExpiration();
    const ch: ExpirationChange = {};
    const vs: ExpirationValues = {};
    for (const strategy of GRID_STRATEGIES) {
      for (const side of SIDES) {
        const pt = p[strategy][side];
        const nt = n[strategy][side];
        for (const [strike, byWidth] of Object.entries(nt)) {
          for (const [width, tile] of Object.entries(byWidth)) {
            const old = pt[strike]?.[width];
            if (old && sameTile(old, tile)) continue;
            if (old && repriced(old, tile)) {
              const v = (vs[strategy] ??= {});
              ((v[side] ??= {})[strike] ??= {})[width] = tile.value;
              diff.counts.repriced++;
              continue;
            }
            const s = (ch[strategy] ??= {});
            ((s[side] ??= {})[strike] ??= {})[width] = tile;
            diff.counts.changed++;
          }
        }
        for (const [strike, byWidth] of Object.entries(pt))
          for (const width of Object.keys(byWidth))
            if (!nt[strike]?.[width]) {
              diff.removed.push([date, strategy, side, strike, width]);
              diff.counts.removed++;
            }
      }
    }
    for (const [strike, sides] of Object.entries(n.single)) {
      for (const side of SIDES) {
        const tile = sides[side];
        if (!tile) continue;
        const old = p.single[strike]?.[side];
        if (old && sameTile(old, tile)) continue;
        if (old && repriced(old, tile)) {
          ((vs.single ??= {})[strike] ??= {})[side] = tile.value;
          diff.counts.repriced++;
          continue;
        }
        ((ch.single ??= {})[strike] ??= {})[side] = tile;
        diff.counts.changed++;
      }
    }
    for (const [strike, sides] of Object.entries(p.single))
      for (const side of SIDES)
        if (sides[side] && !n.single[strike]?.[side]) {
          diff.removed.push([date, 'single', strike, side]);
          diff.counts.removed++;
        }
    if (p.root !== n.root) ch.root = n.root;
    if (p.settlement !== n.settlement) ch.settlement = n.settlement;
    if (!sameJson(p.density, n.density)) ch.density = n.density;
    if (!sameJson(p.flags, n.flags)) ch.flags = n.flags;
    if (Object.keys(ch).length > 0) diff.changed[date] = ch;
    if (Object.keys(vs).length > 0) diff.values[date] = vs;
  }
  return diff;
}

/** Applies a diff to the document it was made from (mutates and returns it). */
export function applyHeatmapDiff(doc: HeatmapModel, diff: HeatmapDiff): HeatmapModel {
  // The header is every top-level field of the new version: one it no longer has (e.g. `live`) goes.
  const fields = doc as unknown as Record<string, unknown>;
  for (const k of Object.keys(fields)) if (k !== 'expirations' && !(k in diff.header)) delete fields[k];
  Object.assign(doc, diff.header);
  for (const date of diff.removed_expirations) delete doc.expirations[date];
  const reprice = (t: Tile | undefined, value: number): void => {
    if (!t) return;
    t.description = repriceDescription(t.description, t.value, value) ?? t.description;
    t.value = value;
  };
  for (const [date, vs] of Object.entries(diff.values)) {
    const e = doc.expirations[date];
    if (!e) continue;
    for (const strategy of GRID_STRATEGIES)
      for (const side of SIDES)
        for (const [strike, byWidth] of Object.entries(vs[strategy]?.[side] ?? {}))
          for (const [width, value] of Object.entries(byWidth))
            reprice(e[strategy][side][strike]?.[width], value);
    for (const [strike, sides] of Object.entries(vs.single ?? {}))
      for (const side of SIDES) {
        const value = sides[side];
        if (value !== undefined) reprice(e.single[strike]?.[side], value);
      }
  }
  for (const [date, ch] of Object.entries(diff.changed)) {
    const e = (doc.expirations[date] ??= emptyExpiration());
    for (const strategy of GRID_STRATEGIES)
      for (const side of SIDES)
        for (const [strike, byWidth] of Object.entries(ch[strategy]?.[side] ?? {}))
          Object.assign((e[strategy][side][strike] ??= {}), byWidth);
    for (const [strike, sides] of Object.entries(ch.single ?? {}))
      Object.assign((e.single[strike] ??= {}), sides);
    if (ch.root !== undefined) e.root = ch.root;
    if (ch.settlement !== undefined) e.settlement = ch.settlement;
    if (ch.density !== undefined) e.density = ch.density;
    if (ch.flags !== undefined) e.flags = ch.flags;
  }
  for (const r of diff.removed) {
    const e = doc.expirations[r[0]];
    if (!e) continue;
    if (r[1] === 'single') {
      const row = e.single[r[2]];
      if (row) {
        delete row[r[3]];
        if (Object.keys(row).length === 0) delete e.single[r[2]];
      }
    } else {
      const row = e[r[1]][r[2]][r[3]];
      if (row) {
        delete row[r[4]];
        if (Object.keys(row).length === 0) delete e[r[1]][r[2]][r[3]];
      }
    }
  }
  doc.expirations = Object.fromEntries(
    Object.entries(doc.expirations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return doc;
}
