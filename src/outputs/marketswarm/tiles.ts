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
import { substrateColumns, type SubstrateColumns } from '../../models/substrate-columns.js';
import { ascii, ByteWriter } from './bytes.js';
import { calendarDays, type SurfaceInput } from './heatmap.js';

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
  strikes: number[];
  pos: Map<number, number>;
  /** Per side (0 call, 1 put), per position: 1 when the side has a leg there. */
  has: [Uint8Array, Uint8Array];
  /** The leg's mid and IV (NaN: null). */
  mid: [Float64Array, Float64Array];
  iv: [Float64Array, Float64Array];
}

function rootOrder(a: string, b: string): number {
  return (settlementStyle(a) === 'PM' ? 0 : 1) - (settlementStyle(b) === 'PM' ? 0 : 1) || a.localeCompare(b);
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
  const members: number[][] = cols.expirations.map(() => []);
  for (let i = 0; i < n; i++) {
    const e = cols.expiration[i] as number;
    if (cols.root[i] === chosen[e]) (members[e] as number[]).push(i);
  }
  const out: DateLegs[] = [];
  cols.expirations.forEach((date, e) => {
    const list = members[e] as number[];
    if (list.length === 0) return;
    // Calls' strikes first, then puts' (heatmap.ts's set order), unique, sorted.
    const set = new Set<number>();
    for (const side of [1, 0])
      for (const i of list) if (cols.call[i] === side) set.add(cols.strike[i] as number);
    const strikes = [...set].sort((a, b) => a - b);
    const pos = new Map<number, number>();
    strikes.forEach((k, p) => pos.set(k, p));
    const m = strikes.length;
    const legs: DateLegs = {
      date,
      root: cols.roots[chosen[e] as number] as string,
      strikes,
      pos,
      has: [new Uint8Array(m), new Uint8Array(m)],
      mid: [new Float64Array(m), new Float64Array(m)],
      iv: [new Float64Array(m), new Float64Array(m)],
    };
    for (const i of list) {
      const side = cols.call[i] === 1 ? 0 : 1;
      const p = pos.get(cols.strike[i] as number) as number;
      legs.has[side][p] = 1;
      legs.mid[side][p] = cols.mid[i] as number;
      legs.iv[side][p] = cols.iv[i] as number;
    }
    out.push(legs);
  });
  return out.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

const okIv = (v: number): boolean => Number.isFinite(v) && v > 0 && v < 5;

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
  const lo = spot === null ? -Infinity : spot * (1 - i.windowPct / 100);
  const hi = spot === null ? Infinity : spot * (1 + i.windowPct / 100);
  const widths = i.widths;
  const nw = widths.length;
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
  const chains = legsByDate(cols);
  let estimate = 0;
  for (const d of chains) for (const k of d.strikes) if (k >= lo && k <= hi) estimate += slots;
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
    // One Black-Scholes price per (side, strike) and date, when first asked for.
    const theoV: [Float64Array, Float64Array] = [new Float64Array(m), new Float64Array(m)];
    const theoDone: [Uint8Array, Uint8Array] = [new Uint8Array(m), new Uint8Array(m)];
    const theo = (side: 0 | 1, p: number): number => {
      if (theoDone[side][p] === 1) return theoV[side][p] as number;
      const v = blackScholes({
        side: side === 0 ? 'C' : 'P',
        spot: spot as number,
        strike: d.strikes[p] as number,
        t,
        iv: iv as number,
      }).price;
      theoDone[side][p] = 1;
      theoV[side][p] = v;
      return v;
    };
    const { has, mid } = d;
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
    let k = 0;
    let sk = 0;
    let numBase = NaN;
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
      mem.key[n] = numBase + (slotKeyId[keySlot] as number);
      if (n > 0) w.byte(0x2c);
      mem.start[n] = w.pos;
      w.bytes(keyHead[keySlot] as Uint8Array);
      if (skStart < 0) {
        skStart = w.pos;
        writeInt(w, sk);
        skEnd = w.pos;
      } else w.repeat(skStart, skEnd);
      w.bytes(KEY_END);
      mem.value[n] = w.pos;
      if (baseStart < 0) {
        baseStart = w.pos;
        w.bytes(dateHead);
        w.ascii(String(k));
        baseEnd = w.pos;
      } else w.repeat(baseStart, baseEnd);
      w.bytes(slotTail[slot] as Uint8Array);
      count++;
    };
    const close = (): void => {
      w.byte(0x7d);
      mem.end[mem.n - 1] = w.pos;
    };
    const single = (label: Uint8Array, a: number, mk: number): void => {
      w.bytes(label);
      w.bytes(MID);
      w.cents(a);
      if (mk === mk) {
        w.bytes(MARKET_MID);
        w.cents(mk);
      }
      w.byte(0x7d);
    };
    const spreadSide = (label: Uint8Array, debit: number, mk: number, width: number): void => {
      w.bytes(label);
      w.bytes(DEBIT);
      const d0 = w.pos;
      w.cents(debit);
      const d1 = w.pos;
      w.bytes(MAX_PROFIT);
      w.cents(width - debit);
      w.bytes(MAX_LOSS);
      w.repeat(d0, d1);
      if (mk === mk) {
        w.bytes(MARKET_DEBIT);
        w.cents(mk);
      }
      w.byte(0x7d);
    };
    // Spread sides computed before writing: debit (NaN: none) and market (NaN: none), per side.
    const debitOf = [NaN, NaN];
    const marketOf = [NaN, NaN];
    const spread = (n: number, theoDebit: number, market: number): void => {
      const debit = priced ? theoDebit : market;
      debitOf[n] = Number.isFinite(debit) ? debit : NaN;
      marketOf[n] = Number.isFinite(market) ? market : NaN;
    };
    const spreadTile = (slot: number, keySlot: number, width: number): void => {
      const c = debitOf[0] as number;
      const u = debitOf[1] as number;
      if (c !== c && u !== u) return;
      open(slot, keySlot);
      if (c === c) spreadSide(CALL, c, marketOf[0] as number, width);
      if (u === u) spreadSide(PUT, u, marketOf[1] as number, width);
      close();
    };
    for (let p = 0; p < m; p++) {
      k = d.strikes[p] as number;
      if (!(k >= lo && k <= hi)) continue;
      sk = Math.trunc(k);
      if (sk !== lastSk) {
        gen++;
        lastSk = sk;
      }
      numBase = keyed && Math.abs(sk) < STRIKE_SPAN ? (dte * 2 ** 24 + (sk + STRIKE_SPAN)) * SLOT_SPAN : NaN;
      skStart = -1;
      baseStart = -1;
      // single: {mid: theo ?? mid, market_mid: mid}
      let cOk = false;
      let uOk = false;
      let ca = 0;
      let ua = 0;
      const cm = has[0][p] === 1 ? (mid[0][p] as number) : NaN;
      const um = has[1][p] === 1 ? (mid[1][p] as number) : NaN;
      if (has[0][p] === 1 && (priced || cm === cm)) {
        cOk = true;
        ca = priced ? theo(0, p) : cm;
      }
      if (has[1][p] === 1 && (priced || um === um)) {
        uOk = true;
        ua = priced ? theo(1, p) : um;
      }
      if (cOk || uOk) {
        open(0, 0);
        if (cOk) single(CALL, ca, cm);
        if (uOk) single(PUT, ua, um);
        close();
      }
      for (let wi = 0; wi < nw; wi++) {
        const wd = widths[wi] as number;
        const pm = d.pos.get(k - wd);
        const pp = d.pos.get(k + wd);
        const ws = widthSlot[wi] as number;
        // butterfly: K−w, K, K+w on each side
        for (let n = 0; n < 2; n++) {
          debitOf[n] = NaN;
          marketOf[n] = NaN;
          const hs = has[n] as Uint8Array;
          if (pm === undefined || pp === undefined || hs[pm] !== 1 || hs[p] !== 1 || hs[pp] !== 1) continue;
          const ms = mid[n] as Float64Array;
          const a = ms[pm] as number;
          const b = ms[p] as number;
          const c = ms[pp] as number;
          const market = a - 2 * b + c;
          const side = n as 0 | 1;
          spread(n, priced ? theo(side, pm) - 2 * theo(side, p) + theo(side, pp) : NaN, market);
        }
        spreadTile(1 + 2 * wi, 1 + 2 * ws, wd);
        // vertical: call long K short K+w; put long K short K−w
        for (let n = 0; n < 2; n++) {
          debitOf[n] = NaN;
          marketOf[n] = NaN;
          const hs = has[n] as Uint8Array;
          const q = n === 0 ? pp : pm;
          if (q === undefined || hs[p] !== 1 || hs[q] !== 1) continue;
          const ms = mid[n] as Float64Array;
          const market = (ms[p] as number) - (ms[q] as number);
          const side = n as 0 | 1;
          spread(n, priced ? theo(side, p) - theo(side, q) : NaN, market);
        }
        spreadTile(2 + 2 * wi, 2 + 2 * ws, wd);
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
