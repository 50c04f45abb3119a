/**
 * @module The heatmap model's JSON, written as text: the same bytes as `JSON.stringify` of
 * {@link buildHeatmapModel}'s object (tested side by side), without the object tree.
 *
 * Why: a burst heatmap is ~10,000 tiles per symbol (4–5 MB of JSON); building an object per tile, leg and
 * row and then stringifying them cost the model thread more than the GEX maths, most of it in allocation
 * and garbage collection. Here each tile is priced once ({@link pricedButterfly} & co., as the object
 * builder does) and appended as text.
 *
 * Key order is JSON.stringify's: an object lists its integer-like keys ("6850") ascending first, then the
 * others ("6852.5") in insertion order, so rows and widths are written in that order.
 */
import { settlementStyle } from '../../domain/market-time.js';
import type { ArbitrageFlag, HeatmapFlags, HeatmapInput, HeatmapWindow } from '../types.js';
import { centres, heatmapFrame, type HeatmapDate } from './build.js';
import { callDensity } from './density.js';
import { orderPrice } from './description.js';
import {
  BUTTERFLY_QTY,
  pricedButterfly,
  pricedSingle,
  pricedVertical,
  sideContext,
  SINGLE_QTY,
  VERTICAL_QTY,
  type Priced,
  type SideContext,
  type SideQuotes,
} from './tiles.js';

/** Characters JSON.stringify writes as they are (printable ASCII but `"` and `\`). */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** True when `key` is an array index: an object lists such keys first, ascending. */
function isIndexKey(key: string): boolean {
  return /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;
}

/** `items` in the order an object keyed by `keyOf` lists them (given in insertion order). */
function inKeyOrder<T>(items: readonly T[], keyOf: (t: T) => string): T[] {
  const index: T[] = [];
  const other: T[] = [];
  for (const t of items) (isIndexKey(keyOf(t)) ? index : other).push(t);
  index.sort((a, b) => Number(keyOf(a)) - Number(keyOf(b)));
  return index.concat(other);
}

/** One side's text pieces, escaped once. */
interface SideJson {
  ctx: SideContext;
  /** `,"type":"C","qty":` */
  typeQty: string;
  /** The order line's parts need no escaping (else each line goes through JSON.stringify). */
  plain: boolean;
}

function sideJson(root: string, expiration: string, type: 'C' | 'P'): SideJson {
  const ctx = sideContext(root, expiration, type);
  const plain = PLAIN.test(ctx.prefix) && PLAIN.test(ctx.butterfly + ctx.vertical + ctx.single);
  return { ctx, typeQty: `,"type":${JSON.stringify(type)},"qty":`, plain };
}

/** A tile as JSON: `{"value":…,"legs":[{"strike":…,"type":…,"qty":…},…],"description":"…"}`. */
function tileJson(p: Priced, side: SideJson, qty: readonly number[], what: string): string {
  let legs = '';
  let strikes = '';
  for (let i = 0; i < p.legs.length; i++) {
    const q = p.legs[i] as (typeof p.legs)[number];
    // A finite number's JSON is its String (the label).
    legs += `${i > 0 ? ',' : ''}{"strike":${q.label}${side.typeQty}${qty[i] as number}}`;
    strikes += i > 0 ? `/${q.label}` : q.label;
  }
  const line = `${side.ctx.prefix}${strikes}${what}${orderPrice(p.value)}`;
  const description = side.plain ? `"${line}"` : JSON.stringify(line);
  return `{"value":${p.value},"legs":[${legs}],"description":${description}}`;
}

type PriceAt = (quotes: SideQuotes, type: 'C' | 'P', strike: number, width: number) => Priced | null;
const butterflyAt: PriceAt = (quotes, _type, strike, width) => pricedButterfly(quotes, strike, width);

/** A `{strike: {width: tile}}` grid as JSON, its tile count, and the flags `bad` picks (sorted). */
function gridJson(
  price: PriceAt,
  quotes: SideQuotes,
  side: SideJson,
  qty: readonly number[],
  what: string,
  strikes: readonly number[],
  widths: readonly number[],
  flag: { type: 'call' | 'put'; bad: (value: number, width: number) => boolean },
): { json: string; tiles: number; flags: ArbitrageFlag[] } {
  const byKey = inKeyOrder(widths, String);
  const rows: { strike: number; json: string }[] = [];
  const flags: ArbitrageFlag[] = [];
  let tiles = 0;
  for (const strike of strikes) {
    let row = '';
    for (const width of byKey) {
      const p = price(quotes, side.ctx.type, strike, width);
      if (p === null) continue;
      row += `${row === '' ? '' : ','}"${width}":${tileJson(p, side, qty, what)}`;
      tiles++;
      if (flag.bad(p.value, width)) flags.push({ type: flag.type, strike, width, value: p.value });
    }
    if (row !== '') rows.push({ strike, json: row });
  }
  const json = inKeyOrder(rows, (r) => String(r.strike))
    .map((r) => `"${r.strike}":{${r.json}}`)
    .join(',');
  flags.sort((a, b) => a.strike - b.strike || a.width - b.width);
  return { json: `{${json}}`, tiles, flags };
}

/** `{strike: {call, put}}` as JSON, and how many strikes it has. */
function singleJson(
  calls: { quotes: SideQuotes; side: SideJson },
  puts: { quotes: SideQuotes; side: SideJson },
  strikes: readonly number[],
): { json: string; count: number } {
  const rows: { strike: number; json: string }[] = [];
  for (const strike of strikes) {
    const call = pricedSingle(calls.quotes, strike);
    const put = pricedSingle(puts.quotes, strike);
    if (call === null && put === null) continue;
    const parts: string[] = [];
    if (call !== null) parts.push(`"call":${tileJson(call, calls.side, SINGLE_QTY, calls.side.ctx.single)}`);
    if (put !== null) parts.push(`"put":${tileJson(put, puts.side, SINGLE_QTY, puts.side.ctx.single)}`);
    rows.push({ strike, json: `{${parts.join(',')}}` });
  }
  const json = inKeyOrder(rows, (r) => String(r.strike))
    .map((r) => `"${r.strike}":${r.json}`)
    .join(',');
  return { json: `{${json}}`, count: rows.length };
}

const negative = (v: number): boolean => v < 0;
const over = (v: number, w: number): boolean => v > w;

/** One date's expiration JSON and its flags; null when it has no tile (the object builder leaves it out). */
function expirationJson(
  d: HeatmapDate,
  widths: readonly number[],
  window: HeatmapWindow | null,
  spot: number | null,
): { json: string; flags: HeatmapFlags } | null {
  const { chain, root, expiration } = d;
  const call = sideJson(root, expiration, 'C');
  const put = sideJson(root, expiration, 'P');
  const callStrikes = centres(chain.calls, window);
  const putStrikes = centres(chain.puts, window);
  const grid = (
    price: PriceAt,
    quotes: SideQuotes,
    side: SideJson,
    strikes: readonly number[],
    kind: 'butterfly' | 'vertical',
  ): ReturnType<typeof gridJson> =>
    kind === 'butterfly'
      ? gridJson(price, quotes, side, BUTTERFLY_QTY, side.ctx.butterfly, strikes, widths, {
          type: side.ctx.type === 'C' ? 'call' : 'put',
          bad: negative,
        })
      : gridJson(price, quotes, side, VERTICAL_QTY, side.ctx.vertical, strikes, widths, {
          type: side.ctx.type === 'C' ? 'call' : 'put',
          bad: over,
        });
  const flyCall = grid(butterflyAt, chain.calls, call, callStrikes, 'butterfly');
  const flyPut = grid(butterflyAt, chain.puts, put, putStrikes, 'butterfly');
  const vertCall = grid(pricedVertical, chain.calls, call, callStrikes, 'vertical');
  const vertPut = grid(pricedVertical, chain.puts, put, putStrikes, 'vertical');
  const singleStrikes = [...new Set([...callStrikes, ...putStrikes])].sort((a, b) => a - b);
  const single = singleJson(
    { quotes: chain.calls, side: call },
    { quotes: chain.puts, side: put },
    singleStrikes,
  );
  const count = flyCall.tiles + flyPut.tiles + vertCall.tiles + vertPut.tiles + single.count;
  if (count === 0) return null;
  const flags: HeatmapFlags = {
    negative_butterfly: [...flyCall.flags, ...flyPut.flags],
    vertical_over_width: [...vertCall.flags, ...vertPut.flags],
  };
  const density = callDensity(chain.calls, window, spot, d.levels);
  const json =
    `{"root":${JSON.stringify(root)},"settlement":${JSON.stringify(settlementStyle(root))}` +
    `,"butterfly":{"call":${flyCall.json},"put":${flyPut.json}}` +
    `,"vertical":{"call":${vertCall.json},"put":${vertPut.json}}` +
    `,"single":${single.json},"density":${JSON.stringify(density)},"flags":${JSON.stringify(flags)}}`;
  return { json, flags };
}

/**
 * `JSON.stringify({ ...buildHeatmapModel(input), ...extra })`, written as text (see the module note).
 * `extra` holds fields appended after the model's own (the `live` header).
 */
export function heatmapModelJson(input: HeatmapInput, extra: Record<string, unknown> = {}): string {
  const { model, widths, window, spot, dates } = heatmapFrame(input);
  const parts: string[] = [];
  for (const d of dates) {
    const e = expirationJson(d, widths, window, spot);
    if (e === null) continue;
    parts.push(`${JSON.stringify(d.expiration)}:${e.json}`);
    model.flags.negative_butterfly += e.flags.negative_butterfly.length;
    model.flags.vertical_over_width += e.flags.vertical_over_width.length;
  }
  const { expirations: _none, flags, ...head } = model;
  const headJson = JSON.stringify(head);
  let tail = `,"expirations":{${parts.join(',')}},"flags":${JSON.stringify(flags)}`;
  for (const [k, v] of Object.entries(extra))
    if (v !== undefined) tail += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  return `${headJson.slice(0, -1)}${tail}}`;
}
