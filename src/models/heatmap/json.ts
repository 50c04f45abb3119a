/**
 * @module The heatmap model's JSON, written as UTF-8 bytes: the same bytes as `JSON.stringify` of
 * {@link buildHeatmapModel}'s object (tested side by side), without the object tree.
 *
 * Why: a burst heatmap is ~20,000 tiles per symbol (4–5 MB of JSON); building an object per tile, leg and
 * row and then stringifying them cost the model thread more than the GEX maths, most of it in allocation
 * and garbage collection. Here each tile is priced once ({@link pricedButterfly} & co., as the object
 * builder does) and its text appended to one byte buffer ({@link ByteWriter}): no string per tile, no
 * rope to flatten, no UTF-8 encoding pass afterwards (heatmap phase ~2× faster, measured in its commit).
 *
 * Key order is JSON.stringify's: an object lists its integer-like keys ("6850") ascending first, then the
 * others ("6852.5") in insertion order, so rows and widths are written in that order.
 */
import { ascending } from '../../lib/compare.js';
import { settlementStyle } from '../../domain/market-time.js';
import type { ArbitrageFlag, HeatmapFlags, HeatmapInput, HeatmapWindow } from '../types.js';
import { centres, heatmapFrame, type HeatmapDate } from './build.js';
import { callDensity } from './density.js';
import { ByteWriter } from '../byte-writer.js';
import { writeCentsFixed, writeCentsNumber } from './cents-text.js';
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
  const index: { n: number; t: T }[] = [];
  const other: T[] = [];
  for (const t of items) {
    const key = keyOf(t);
    if (isIndexKey(key)) index.push({ n: Number(key), t });
    else other.push(t);
  }
  // A module comparator, not a closure made per build (whose optimized code would not outlive the build).
  index.sort(byIndexKey);
  const out: T[] = [];
  for (const x of index) out.push(x.t);
  for (const t of other) out.push(t);
  return out;
}

function byIndexKey(a: { n: number }, b: { n: number }): number {
  return a.n - b.n;
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

/** The order line's price side (description.ts `orderPrice`), from the sign of the cents. */
function priceSide(cents: number): string {
  return cents > 0 ? ' DEBIT' : cents < 0 ? ' CREDIT' : ' EVEN';
}

/** A tile: `{"value":…,"legs":[{"strike":…,"type":…,"qty":…},…],"description":"…"}`. */
function writeTile(w: ByteWriter, p: Priced, side: SideJson, qty: readonly string[], what: string): void {
  w.text('{"value":');
  writeCentsNumber(w, p.cents);
  w.text(',"legs":[');
  for (let i = 0; i < p.legs.length; i++) {
    const q = p.legs[i] as (typeof p.legs)[number];
    // A finite number's JSON is its String (the label).
    w.text(i > 0 ? ',{"strike":' : '{"strike":')
      .text(q.label)
      .text(side.typeQty)
      .text(qty[i] as string)
      .byte(0x7d);
  }
  w.text('],"description":');
  if (side.plain) {
    w.byte(0x22).text(side.ctx.prefix);
    for (let i = 0; i < p.legs.length; i++) {
      if (i > 0) w.byte(0x2f);
      w.text((p.legs[i] as (typeof p.legs)[number]).label);
    }
    w.text(what).text(' @ ');
    writeCentsFixed(w, p.cents);
    w.text(priceSide(p.cents)).text('"}');
    return;
  }
  const strikes = p.legs.map((q) => q.label).join('/');
  const line = `${side.ctx.prefix}${strikes}${what} @ ${Math.abs(p.value).toFixed(2)}${priceSide(p.cents)}`;
  w.text(JSON.stringify(line)).byte(0x7d);
}

type PriceAt = (quotes: SideQuotes, type: 'C' | 'P', strike: number, width: number) => Priced | null;
const butterflyAt: PriceAt = (quotes, _type, strike, width) => pricedButterfly(quotes, strike, width);

const quantities = (qty: readonly number[]): string[] => qty.map(String);
const BUTTERFLY_QTY_TEXT = quantities(BUTTERFLY_QTY);
const VERTICAL_QTY_TEXT = quantities(VERTICAL_QTY);
const SINGLE_QTY_TEXT = quantities(SINGLE_QTY);

/**
 * Writes a `{strike: {width: tile}}` grid; returns its tile count and the flags `bad` picks (sorted).
 * Rows are visited in the object's key order, so a row is written where JSON.stringify lists it; a row
 * without tiles is written and then dropped (the writer set back to before its key).
 */
function writeGrid(
  w: ByteWriter,
  price: PriceAt,
  quotes: SideQuotes,
  side: SideJson,
  qty: readonly string[],
  what: string,
  strikes: readonly number[],
  widths: readonly number[],
  flag: { type: 'call' | 'put'; bad: (value: number, width: number) => boolean },
): { tiles: number; flags: ArbitrageFlag[] } {
  const byKey = inKeyOrder(widths, String);
  const widthKeys = byKey.map((width) => `"${width}":`);
  const flags: ArbitrageFlag[] = [];
  let tiles = 0;
  let rows = 0;
  w.byte(0x7b);
  for (const strike of inKeyOrder(strikes, String)) {
    const mark = w.length;
    w.text(rows > 0 ? ',"' : '"')
      .text(String(strike))
      .text('":{');
    let inRow = 0;
    for (let j = 0; j < byKey.length; j++) {
      const width = byKey[j] as number;
      const p = price(quotes, side.ctx.type, strike, width);
      if (p === null) continue;
      if (inRow > 0) w.byte(0x2c);
      w.text(widthKeys[j] as string);
      writeTile(w, p, side, qty, what);
      inRow++;
      if (flag.bad(p.value, width)) flags.push({ type: flag.type, strike, width, value: p.value });
    }
    if (inRow === 0) {
      w.length = mark;
      continue;
    }
    w.byte(0x7d);
    rows++;
    tiles += inRow;
  }
  w.byte(0x7d);
  flags.sort(byStrikeThenWidth);
  return { tiles, flags };
}

/** Writes `{strike: {call, put}}`; returns how many strikes it has. */
function writeSingles(
  w: ByteWriter,
  calls: { quotes: SideQuotes; side: SideJson },
  puts: { quotes: SideQuotes; side: SideJson },
  strikes: readonly number[],
): number {
  let rows = 0;
  w.byte(0x7b);
  for (const strike of inKeyOrder(strikes, String)) {
    const call = pricedSingle(calls.quotes, strike);
    const put = pricedSingle(puts.quotes, strike);
    if (call === null && put === null) continue;
    w.text(rows > 0 ? ',"' : '"')
      .text(String(strike))
      .text('":{');
    if (call !== null) {
      w.text('"call":');
      writeTile(w, call, calls.side, SINGLE_QTY_TEXT, calls.side.ctx.single);
    }
    if (put !== null) {
      w.text(call !== null ? ',"put":' : '"put":');
      writeTile(w, put, puts.side, SINGLE_QTY_TEXT, puts.side.ctx.single);
    }
    w.byte(0x7d);
    rows++;
  }
  w.byte(0x7d);
  return rows;
}

const negative = (v: number): boolean => v < 0;
const over = (v: number, w: number): boolean => v > w;

/**
 * Writes one date's expiration JSON and returns its flags; null, with nothing written, when it has no
 * tile (the object builder leaves it out).
 */
function writeExpiration(
  w: ByteWriter,
  d: HeatmapDate,
  widths: readonly number[],
  window: HeatmapWindow | null,
  spot: number | null,
): HeatmapFlags | null {
  const mark = w.length;
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
  ): ReturnType<typeof writeGrid> =>
    kind === 'butterfly'
      ? writeGrid(w, price, quotes, side, BUTTERFLY_QTY_TEXT, side.ctx.butterfly, strikes, widths, {
          type: side.ctx.type === 'C' ? 'call' : 'put',
          bad: negative,
        })
      : writeGrid(w, price, quotes, side, VERTICAL_QTY_TEXT, side.ctx.vertical, strikes, widths, {
          type: side.ctx.type === 'C' ? 'call' : 'put',
          bad: over,
        });
  w.text(`{"root":${JSON.stringify(root)},"settlement":${JSON.stringify(settlementStyle(root))}`);
  w.text(',"butterfly":{"call":');
  const flyCall = grid(butterflyAt, chain.calls, call, callStrikes, 'butterfly');
  w.text(',"put":');
  const flyPut = grid(butterflyAt, chain.puts, put, putStrikes, 'butterfly');
  w.text('},"vertical":{"call":');
  const vertCall = grid(pricedVertical, chain.calls, call, callStrikes, 'vertical');
  w.text(',"put":');
  const vertPut = grid(pricedVertical, chain.puts, put, putStrikes, 'vertical');
  w.text('},"single":');
  const singleStrikes = [...new Set([...callStrikes, ...putStrikes])].sort(ascending);
  const singles = writeSingles(
    w,
    { quotes: chain.calls, side: call },
    { quotes: chain.puts, side: put },
    singleStrikes,
  );
  const count = flyCall.tiles + flyPut.tiles + vertCall.tiles + vertPut.tiles + singles;
  if (count === 0) {
    w.length = mark;
    return null;
  }
  const flags: HeatmapFlags = {
    negative_butterfly: [...flyCall.flags, ...flyPut.flags],
    vertical_over_width: [...vertCall.flags, ...vertPut.flags],
  };
  const density = callDensity(chain.calls, window, spot, d.levels);
  w.text(`,"density":${JSON.stringify(density)},"flags":${JSON.stringify(flags)}}`);
  return flags;
}

/** The writer's first size when the caller has no estimate of the document's. */
const DEFAULT_CAPACITY = 1 << 20;
/** Unused bytes of an estimated buffer that travel with the document rather than it being copied. */
const HEATMAP_MAX_SLACK_SHARE = 1 / 8;

/**
 * The buffer to write a heatmap into, from the size of the symbol's last one: 4 % and 16 KiB more (a
 * cycle's document moves by a few tiles; one that outgrows it is copied, as without an estimate).
 */
export function heatmapCapacity(lastBytes: number): number {
  return Math.ceil(lastBytes * 1.04) + (16 << 10);
}

/**
 * `JSON.stringify({ ...buildHeatmapModel(input), ...extra })` as UTF-8 bytes, in an ArrayBuffer of their
 * own (transferable). `extra` holds fields appended after the model's own (the `live` header).
 *
 * `capacity`: the size to write into from the start (the caller's estimate, e.g. the symbol's last
 * heatmap). Without it the writer starts at 1 MiB and doubles: a 4.4 MB document took buffers of 1, 2, 4
 * and 8 MiB and a copy of its exact size, ~19 MB of allocations, up to ~17 MB of it live at the end of
 * every build (the worker's peak RSS is there). When the buffer written into is at most 1/8 unused, the
 * result is a view of it (no copy): its `byteLength` is the document's, its `buffer` may be larger.
 */
export function heatmapModelBytes(
  input: HeatmapInput,
  extra: Record<string, unknown> = {},
  capacity = DEFAULT_CAPACITY,
): Uint8Array {
  const { model, widths, window, spot, dates } = heatmapFrame(input);
  const { expirations: _none, flags: _counts, ...head } = model;
  const w = new ByteWriter(capacity);
  w.text(JSON.stringify(head).slice(0, -1)).text(',"expirations":{');
  let written = 0;
  for (const d of dates) {
    const mark = w.length;
    w.text(`${written > 0 ? ',' : ''}${JSON.stringify(d.expiration)}:`);
    const flags = writeExpiration(w, d, widths, window, spot);
    if (flags === null) {
      w.length = mark;
      continue;
    }
    written++;
    model.flags.negative_butterfly += flags.negative_butterfly.length;
    model.flags.vertical_over_width += flags.vertical_over_width.length;
  }
  w.text(`},"flags":${JSON.stringify(model.flags)}`);
  for (const [k, v] of Object.entries(extra))
    if (v !== undefined) w.text(`,${JSON.stringify(k)}:${JSON.stringify(v)}`);
  w.byte(0x7d);
  return w.takeView(Math.floor(w.length * HEATMAP_MAX_SLACK_SHARE));
}

/** {@link heatmapModelBytes} as a string: `JSON.stringify({ ...buildHeatmapModel(input), ...extra })`. */
export function heatmapModelJson(input: HeatmapInput, extra: Record<string, unknown> = {}): string {
  const bytes = heatmapModelBytes(input, extra);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Strike, then width (a module-level comparator: lib/shape-anchors.ts). */
function byStrikeThenWidth(
  a: { strike: number; width: number },
  b: { strike: number; width: number },
): number {
  return a.strike - b.strike || a.width - b.width;
}
