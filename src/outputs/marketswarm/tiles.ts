/**
 * @module MarketSwarm's heatmap tiles written straight to bytes: the same tiles and JSON as
 * {@link marketSwarmSurfaceJson} (heatmap.ts states the rules), with no string per tile or per number. The
 * members `"key":{tile}` lie one after another in one buffer (commas between), so the document copies the
 * run once and a diff compares each tile's bytes with the previous build's. Pure.
 *
 * Read from the substrate columns (models/substrate-columns.ts) with each date's legs in typed arrays by
 * strike position: no object per contract, leg or side, no Map lookup per leg. A tile is named for the diff
 * by a number (DTE, int(strike), and its strategy and width as a small id), not by its key's text: pieces
 * repeated across a strike's tiles (`"symbol":…,"strike":…`, int(strike), a debit written twice) are copied
 * within the run instead of written again.
 */
import { blackScholes } from '../../domain/black-scholes.js';
import { nyDate, settlementStyle, yearsToSettlement } from '../../domain/market-time.js';
import { centsIntOfMilli, milliOf } from '../../models/heatmap/tiles.js';
import { inWindow, strikeWindow, windowPctOf } from '../../models/heatmap/window.js';
import { substrateColumns, type SubstrateColumns } from '../../models/substrate-columns.js';
import { MIN_IV } from '../../normalizers/bounds.js';
import { ascii, ByteWriter } from './bytes.js';
import { calendarDays, type SurfaceInput } from './heatmap.js';
import { byCodeUnit } from '../../lib/compare.js';

/** The surface as one run of members and where each lies. */
export interface SurfaceBytes {
  dtes_available: number[];
  dte_tile_counts: Record<string, number>;
  atm_iv: Record<string, number>;
  /** The members `"key":{…}`, comma-separated, in key order (the tiles' order). */
  run: Uint8Array;
  /** Members written (live or not). */
  members: number;
  /**
   * Per member, its key as a number (DTE, int(strike), strategy and width), or NaN when a part is out of
   * the number's range; `ordered` when no key came twice and the members' numbers are finite and strictly
   * increasing (then a diff walks two surfaces side by side).
   */
  key: Float64Array;
  ordered: boolean;
  /** Per member: where its `"key":` starts, where its value starts, where it ends (exclusive). */
  start: Int32Array;
  value: Int32Array;
  end: Int32Array;
  /** False when a key came twice (then the later member holds the tile; the earlier one is not live). */
  contiguous: boolean;
  /** Per member: false when a later member has the same key. */
  live: Uint8Array;
  /** Live members (distinct keys). */
  tiles: number;
}

/** The key of member `n` (the text between its quotes). */
export function memberKey(s: SurfaceBytes, n: number): string {
  return Buffer.from(s.run.buffer, s.run.byteOffset, s.run.length).toString(
    'latin1',
    (s.start[n] as number) + 1,
    (s.value[n] as number) - 2,
  );
}

const CALL = ascii(',"call":');
const PUT = ascii(',"put":');
const MID = ascii('{"mid":');
const MARKET_MID = ascii(',"market_mid":');
const DEBIT = ascii('{"debit":');
const MAX_PROFIT = ascii(',"max_profit":');
const MAX_LOSS = ascii(',"max_loss":');
const MARKET_DEBIT = ascii(',"market_debit":');
const KEY_END = ascii('":');

/** The heatmap's input with the contracts as substrate columns (what the compat thread is sent). */
export interface SurfaceColumnsInput extends Omit<SurfaceInput, 'contracts'> {
  columns: SubstrateColumns;
}

/** One date's chain (one root), by strike position: strikes sorted, each side's leg there or not. */
interface DateLegs {
  date: string;
  root: string;
  strikes: Float64Array;
  /** Per side (0 call, 1 put), per position: 1 when the side has a leg there. */
  has: [Uint8Array, Uint8Array];
  /** The leg's mid in whole thousandths (market figures are summed there) and its IV (NaN: null). */
  milli: [Float64Array, Float64Array];
  iv: [Float64Array, Float64Array];
}

/** The position of `k` in the sorted `strikes`, or -1 (a binary search: no boxed number as a Map key). */
function strikeAt(strikes: Float64Array, k: number): number {
  let lo = 0;
  let hi = strikes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = strikes[mid] as number;
    if (x < k) lo = mid + 1;
    else if (x > k) hi = mid - 1;
    else return mid;
  }
  return -1;
}

function rootOrder(a: string, b: string): number {
  return (settlementStyle(a) === 'PM' ? 0 : 1) - (settlementStyle(b) === 'PM' ? 0 : 1) || byCodeUnit(a, b);
}

/** heatmap.ts's `chainsByDate` on columns: one root per date (PM-settled first), the last leg per strike kept. */
function legsByDate(cols: SubstrateColumns): DateLegs[] {
  const n = cols.strike.length;
  const rootsOf: Set<number>[] = cols.expirations.map(() => new Set<number>());
  for (let i = 0; i < n; i++)
    (rootsOf[cols.expiration[i] as number] as Set<number>).add(cols.root[i] as number);
  const chosen = rootsOf.map((rs) => {
    let best = -1;
    for (const r of rs)
      if (best < 0 || rootOrder(cols.roots[r] as string, cols.roots[best] as string) < 0) best = r;
    return best;
  });
  // The chosen root's contracts of each date, in order, as ranges of one index array (a counting sort).
  const ne = cols.expirations.length;
  const from = new Int32Array(ne + 1);
  for (let i = 0; i < n; i++) {
    const e = cols.expiration[i] as number;
    if (cols.root[i] === chosen[e]) from[e + 1] = (from[e + 1] as number) + 1;
  }
  for (let e = 0; e < ne; e++) from[e + 1] = (from[e + 1] as number) + (from[e] as number);
  const order = new Int32Array(from[ne] as number);
  const fill = from.slice(0, ne);
  for (let i = 0; i < n; i++) {
    const e = cols.expiration[i] as number;
    if (cols.root[i] !== chosen[e]) continue;
    const at = fill[e] as number;
    order[at] = i;
    fill[e] = at + 1;
  }
  const out: DateLegs[] = [];
  cols.expirations.forEach((date, e) => {
    const list = order.subarray(from[e], from[e + 1]);
    if (list.length === 0) return;
    // The date's strikes, unique, sorted (a NaN strike, which no tile or ATM IV can use, left out).
    const all = new Float64Array(list.length);
    for (let j = 0; j < list.length; j++) all[j] = (cols.strike[list[j] as number] as number) + 0;
    all.sort();
    let m = 0;
    for (let j = 0; j < all.length; j++) {
      const k = all[j] as number;
      if (k === k && (m === 0 || k !== all[m - 1])) all[m++] = k;
    }
    const strikes = all.slice(0, m);
    const legs: DateLegs = {
      date,
      root: cols.roots[chosen[e] as number] as string,
      strikes,
      has: [new Uint8Array(m), new Uint8Array(m)],
      milli: [new Float64Array(m), new Float64Array(m)],
      iv: [new Float64Array(m), new Float64Array(m)],
    };
    for (const i of list) {
      const side = cols.call[i] === 1 ? 0 : 1;
      const p = strikeAt(strikes, cols.strike[i] as number);
      if (p < 0) continue;
      legs.has[side][p] = 1;
      legs.milli[side][p] = milliOf(cols.mid[i] as number);
      legs.iv[side][p] = cols.iv[i] as number;
    }
    out.push(legs);
  });
  return out.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

const SIDES = [0, 1] as const;

/** heatmap.ts's usable IV: a smaller one than {@link MIN_IV} is a failed solve. */
const okIv = (v: number): boolean => Number.isFinite(v) && v >= MIN_IV && v < 5;

/** heatmap.ts's `atmIv`: the IV at the strike nearest spot that has one (calls and puts averaged there). */
function atmIvOf(d: DateLegs, spot: number): number | null {
  let best = -1;
  let bestDist = 0;
  d.strikes.forEach((k, p) => {
    const c = d.has[0][p] === 1 && okIv(d.iv[0][p] as number);
    const u = d.has[1][p] === 1 && okIv(d.iv[1][p] as number);
    if (!c && !u) return;
    const dist = Math.abs(k - spot);
    if (best < 0 || dist - bestDist < 0 || (dist - bestDist === 0 && k < (d.strikes[best] as number))) {
      best = p;
      bestDist = dist;
    }
  });
  if (best < 0) return null;
  const c = d.iv[0][best] as number;
  const u = d.iv[1][best] as number;
  const cOk = d.has[0][best] === 1 && okIv(c);
  const uOk = d.has[1][best] === 1 && okIv(u);
  if (cOk && uOk) return (0 + c + u) / 2;
  return cOk ? 0 + c : 0 + u;
}

/** Per symbol: the id of each `strategy:width` (stable across builds, so members' numbers compare). */
const slotIds = new Map<string, Map<string, number>>();

function slotId(symbol: string, name: string): number {
  let ids = slotIds.get(symbol);
  if (!ids) slotIds.set(symbol, (ids = new Map<string, number>()));
  let id = ids.get(name);
  if (id === undefined) ids.set(name, (id = ids.size));
  return id;
}

/** Member numbers: ((dte·2²⁴ + int(strike) + 2²³)·2¹² + slot id), exact below 2⁵³. */
const STRIKE_SPAN = 2 ** 23;
const SLOT_SPAN = 4096;
const DTE_SPAN = 2 ** 17;

/** Growable per-member columns. */
class Members {
  n = 0;
  start = new Int32Array(1024);
  value = new Int32Array(1024);
  end = new Int32Array(1024);
  key = new Float64Array(1024);
  live = new Uint8Array(1024);

  constructor(capacity: number) {
    this.alloc(Math.max(16, capacity));
  }

  private alloc(size: number): void {
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, b: T): T => {
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.start = grow(this.start, new Int32Array(size));
    this.value = grow(this.value, new Int32Array(size));
    this.end = grow(this.end, new Int32Array(size));
    this.key = grow(this.key, new Float64Array(size));
    this.live = grow(this.live, new Uint8Array(size));
  }

  add(): number {
    if (this.n === this.start.length) this.alloc(this.n * 2);
    return this.n++;
  }
}

/** Writes the integer `k` as `String(k)` does. */
function writeInt(w: ByteWriter, k: number): void {
  if (Math.abs(k) < 2 ** 53) {
    if (k < 0) w.byte(0x2d);
    w.uint(Math.abs(k));
  } else w.ascii(String(k));
}

/**
 * The surface's tiles as bytes. `capacity`: the bytes to reserve up front (a caller that knows the last
 * build's size passes a little more, so the writer does not grow 1 → 2 → 4 MB, copying as it goes), or a
 * buffer nothing else uses any more to write the run into (it grows into a new one if too small).
 */
export function marketSwarmSurfaceBytes(
  input: SurfaceInput | SurfaceColumnsInput,
  capacity: number | Uint8Array = 1 << 20,
): SurfaceBytes {
  const i = input;
  const cols = 'columns' in i ? i.columns : substrateColumns(i.contracts);
  const today = nyDate(i.asOfMs);
  const w = new ByteWriter(capacity);
  const dteCounts: Record<string, number> = {};
  const atm: Record<string, number> = {};
  const dtes: number[] = [];
  const symbolJson = JSON.stringify(i.symbol);
  const spot = i.spot !== null && Number.isFinite(i.spot) && i.spot > 0 ? i.spot : null;
  const pct = windowPctOf(i.windowPct);
  const win = spot === null ? null : strikeWindow(spot, pct);
  // The window's edges, for the legs' reach below (a strike in it is tested by inWindow: edges included).
  const lo = win === null ? -Infinity : win.low;
  const hi = win === null ? Infinity : win.high;
  const widths = i.widths;
  const nw = widths.length;
  // Each width in whole thousandths: a spread's max_profit from the market is width − market there.
  const widthMilli = widths.map(milliOf);
  // Slots: 0 single, 1 + 2·wi butterfly, 2 + 2·wi vertical. A width repeated (by its text) is the first one's
  // slot, so its later tile replaces the earlier as the same key does.
  const slots = 1 + 2 * nw;
  const widthText = widths.map((x) => String(x));
  const widthSlot = widths.map((_, wi) => widthText.indexOf(widthText[wi] as string));
  const slotName = (s: number): string =>
    s === 0 ? 'single:0' : `${s % 2 === 1 ? 'butterfly' : 'vertical'}:${widthText[(s - 1) >> 1] as string}`;
  const slotKeyId = new Int32Array(slots);
  const slotTail: Uint8Array[] = [];
  for (let s = 0; s < slots; s++) {
    slotKeyId[s] = slotId(i.symbol, slotName(s));
    slotTail.push(
      ascii(
        s === 0
          ? ',"strategy":"single","width":0'
          : `,"strategy":"${s % 2 === 1 ? 'butterfly' : 'vertical'}","width":${widthText[(s - 1) >> 1] as string}`,
      ),
    );
  }
  // Without a spot a window cannot be placed: no tiles (with 0 every strike, priced from mids).
  const chains = spot === null && pct > 0 ? [] : legsByDate(cols);
  // How far from the window a leg can be and still be priced for a tile in it (a strike more: rounding).
  const reach = widths.reduce((x, y) => Math.max(x, Math.abs(y)), 0) + 1;
  let estimate = 0;
  for (const d of chains) for (const k of d.strikes) if (inWindow(win, k)) estimate += slots;
  const mem = new Members(estimate);
  let contiguous = true;
  // The members of the current int(strike), by slot (a repeated key replaces its member).
  const groupMember = new Int32Array(slots);
  const groupGen = new Int32Array(slots);
  let gen = 0;
  for (const d of chains) {
    const dte = calendarDays(today, d.date);
    const t = yearsToSettlement(i.asOfMs, d.date, d.root);
    if (dte < 0 || !(t > 0)) continue;
    const iv = spot === null ? null : atmIvOf(d, spot);
    if (iv !== null) atm[String(dte)] = Math.round(iv * 1e6) / 1e6;
    const priced = spot !== null && iv !== null;
    const m = d.strikes.length;
    // One Black-Scholes price per (side, strike) and date, for every leg a tile in the window can use
    // (within the widest width of it), read from the arrays below (no number boxed per call).
    const theoV: [Float64Array, Float64Array] = [new Float64Array(m), new Float64Array(m)];
    if (spot !== null && iv !== null)
      for (let p = 0; p < m; p++) {
        const k = d.strikes[p] as number;
        if (!(k >= lo - reach && k <= hi + reach)) continue;
        for (const n of SIDES)
          if (d.has[n][p] === 1)
            theoV[n][p] = blackScholes({ side: n === 0 ? 'C' : 'P', spot, strike: k, t, iv }).price;
      }
    const { has, milli } = d;
    const dteText = String(dte);
    const keyHead: Uint8Array[] = [];
    for (let s = 0; s < slots; s++) {
      const name = s === 0 ? 'single' : s % 2 === 1 ? 'butterfly' : 'vertical';
      const wt = s === 0 ? '0' : (widthText[(s - 1) >> 1] as string);
      keyHead.push(ascii(`"${name}:${dteText}:${wt}:`));
    }
    const dateHead = ascii(`{"symbol":${symbolJson},"dte":${dteText},"strike":`);
    const keyed = Number.isInteger(dte) && dte < DTE_SPAN;
    let count = 0;
    let lastSk = NaN;
    // Per strike: where its int(strike) and its `{"symbol":…,"strike":…` were first written (-1: not yet).
    let skStart = -1;
    let skEnd = -1;
    let baseStart = -1;
    let baseEnd = -1;
    // The numbers the writers below read, in a typed array rather than captured variables or arguments
    // (a double there is a heap number per assignment): the strike, int(strike), the member number's base,
    // and per side (0 call, 1 put) in integer cents the tile's figure (debit or mid), its market figure and
    // a spread's max_profit (NaN: none); then a spread side's market in thousandths and its Black-Scholes value
    // (the inputs of spreadFigures).
    const f = new Float64Array(11);
    const K = 0;
    const SK = 1;
    const BASE = 2;
    const A = 3;
    const M = 5;
    const P = 7;
    const MARKET = 9;
    const THEO = 10;
    /**
     * A spread side's figures from f[MARKET] (NaN: a leg without a mid) and, when priced, f[THEO]: the debit
     * and max_profit from Black-Scholes when priced, else from the market; all in cents, none when not finite.
     */
    const spreadFigures = (n: number, wi: number): void => {
      const market = f[MARKET] as number;
      f[M + n] = centsIntOfMilli(market);
      if (priced) {
        const theo = f[THEO] as number;
        const ok = Number.isFinite(theo);
        f[A + n] = ok ? Math.round(theo * 100) : NaN;
        f[P + n] = ok ? Math.round(((widths[wi] as number) - theo) * 100) : NaN;
      } else {
        f[A + n] = f[M + n] as number;
        f[P + n] = centsIntOfMilli((widthMilli[wi] as number) - market);
      }
    };
    /** Opens member `slot` of the current strike: `,"key":{"symbol":…,"width":…`. */
    const open = (slot: number, keySlot: number): void => {
      const n = mem.add();
      if (groupGen[keySlot] === gen) {
        mem.live[groupMember[keySlot] as number] = 0;
        contiguous = false;
        count--;
      }
      groupGen[keySlot] = gen;
      groupMember[keySlot] = n;
      mem.live[n] = 1;
      mem.key[n] = (f[BASE] as number) + (slotKeyId[keySlot] as number);
      if (n > 0) w.byte(0x2c);
      mem.start[n] = w.pos;
      w.bytes(keyHead[keySlot] as Uint8Array);
      if (skStart < 0) {
        skStart = w.pos;
        writeInt(w, f[SK] as number);
        skEnd = w.pos;
      } else w.repeat(skStart, skEnd);
      w.bytes(KEY_END);
      mem.value[n] = w.pos;
      if (baseStart < 0) {
        baseStart = w.pos;
        w.bytes(dateHead);
        w.ascii(String(f[K]));
        baseEnd = w.pos;
      } else w.repeat(baseStart, baseEnd);
      w.bytes(slotTail[slot] as Uint8Array);
      count++;
    };
    const close = (): void => {
      w.byte(0x7d);
      mem.end[mem.n - 1] = w.pos;
    };
    /** Side n's single `{mid, market_mid?}`. */
    const singleSide = (label: Uint8Array, n: number): void => {
      w.bytes(label);
      w.bytes(MID);
      w.centsOf(f[A + n] as number);
      if (f[M + n] === f[M + n]) {
        w.bytes(MARKET_MID);
        w.centsOf(f[M + n] as number);
      }
      w.byte(0x7d);
    };
    /** Side n's spread `{debit, max_profit, max_loss, market_debit?}`. */
    const spreadSide = (label: Uint8Array, n: number): void => {
      w.bytes(label);
      w.bytes(DEBIT);
      const d0 = w.pos;
      w.centsOf(f[A + n] as number);
      const d1 = w.pos;
      w.bytes(MAX_PROFIT);
      w.centsOf(f[P + n] as number);
      w.bytes(MAX_LOSS);
      w.repeat(d0, d1);
      if (f[M + n] === f[M + n]) {
        w.bytes(MARKET_DEBIT);
        w.centsOf(f[M + n] as number);
      }
      w.byte(0x7d);
    };
    /** The spread tile from f's debits (NaN: no side). */
    const spreadTile = (slot: number, keySlot: number): void => {
      const c = f[A] === f[A];
      const u = f[A + 1] === f[A + 1];
      if (!c && !u) return;
      open(slot, keySlot);
      if (c) spreadSide(CALL, 0);
      if (u) spreadSide(PUT, 1);
      close();
    };
    const [theoC, theoP] = theoV;
    const [hasC, hasP] = has;
    const [milliC, milliP] = milli;
    for (let p = 0; p < m; p++) {
      const k = d.strikes[p] as number;
      if (!inWindow(win, k)) continue;
      const sk = Math.trunc(k);
      if (sk !== lastSk) {
        gen++;
        lastSk = sk;
      }
      f[K] = k;
      f[SK] = sk;
      f[BASE] = keyed && Math.abs(sk) < STRIKE_SPAN ? (dte * 2 ** 24 + (sk + STRIKE_SPAN)) * SLOT_SPAN : NaN;
      skStart = -1;
      baseStart = -1;
      // single: {mid: theo ?? mid, market_mid: mid}, in cents (the mids' from their thousandths)
      const cm = hasC[p] === 1 ? centsIntOfMilli(milliC[p] as number) : NaN;
      const um = hasP[p] === 1 ? centsIntOfMilli(milliP[p] as number) : NaN;
      const cOk = hasC[p] === 1 && (priced || cm === cm);
      const uOk = hasP[p] === 1 && (priced || um === um);
      if (cOk || uOk) {
        f[A] = priced ? Math.round((theoC[p] as number) * 100) : cm;
        f[A + 1] = priced ? Math.round((theoP[p] as number) * 100) : um;
        f[M] = cm;
        f[M + 1] = um;
        open(0, 0);
        if (cOk) singleSide(CALL, 0);
        if (uOk) singleSide(PUT, 1);
        close();
      }
      for (let wi = 0; wi < nw; wi++) {
        const wd = widths[wi] as number;
        const pm = strikeAt(d.strikes, k - wd);
        const pp = strikeAt(d.strikes, k + wd);
        const ws = widthSlot[wi] as number;
        // butterfly: K−w, K, K+w on each side; debit = theo ?? market, none unless finite
        for (let n = 0; n < 2; n++) {
          f[A + n] = NaN;
          f[M + n] = NaN;
          const hs = n === 0 ? hasC : hasP;
          if (pm < 0 || pp < 0 || hs[pm] !== 1 || hs[p] !== 1 || hs[pp] !== 1) continue;
          const ms = n === 0 ? milliC : milliP;
          const ts = n === 0 ? theoC : theoP;
          f[MARKET] = (ms[pm] as number) - 2 * (ms[p] as number) + (ms[pp] as number);
          if (priced) f[THEO] = (ts[pm] as number) - 2 * (ts[p] as number) + (ts[pp] as number);
          spreadFigures(n, wi);
        }
        spreadTile(1 + 2 * wi, 1 + 2 * ws);
        // vertical: call long K short K+w; put long K short K−w
        for (let n = 0; n < 2; n++) {
          f[A + n] = NaN;
          f[M + n] = NaN;
          const hs = n === 0 ? hasC : hasP;
          const q = n === 0 ? pp : pm;
          if (q < 0 || hs[p] !== 1 || hs[q] !== 1) continue;
          const ms = n === 0 ? milliC : milliP;
          const ts = n === 0 ? theoC : theoP;
          f[MARKET] = (ms[p] as number) - (ms[q] as number);
          if (priced) f[THEO] = (ts[p] as number) - (ts[q] as number);
          spreadFigures(n, wi);
        }
        spreadTile(2 + 2 * wi, 2 + 2 * ws);
      }
    }
    if (count > 0) {
      dtes.push(dte);
      dteCounts[dteText] = (dteCounts[dteText] ?? 0) + count;
    }
  }
  const members = mem.n;
  const live = mem.live.subarray(0, members);
  const key = mem.key.subarray(0, members);
  let tiles = 0;
  let ordered = true;
  let last = -Infinity;
  for (let n = 0; n < members; n++) {
    if (live[n] !== 1) continue;
    tiles++;
    const x = key[n] as number;
    if (!(x > last)) ordered = false;
    last = x;
  }
  return {
    dtes_available: [...new Set(dtes)].sort((a, b) => a - b),
    dte_tile_counts: dteCounts,
    atm_iv: atm,
    run: w.written(),
    members,
    key,
    // A repeated key: the text path's order of first writing is not the members' order.
    ordered: ordered && contiguous,
    start: mem.start.subarray(0, members),
    value: mem.value.subarray(0, members),
    end: mem.end.subarray(0, members),
    contiguous,
    live,
    tiles,
  };
}
