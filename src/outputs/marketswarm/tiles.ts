/**
 * @module MarketSwarm's heatmap tiles written straight to bytes: the same tiles and JSON as
 * {@link marketSwarmSurfaceJson} (heatmap.ts states the rules), with no string per tile or per number. The
 * members `"key":{tile}` lie one after another in one buffer (commas between), so the document copies the
 * run once and a diff compares each tile's bytes with the previous build's. Pure.
 */
import { blackScholes } from '../../domain/black-scholes.js';
import { nyDate, yearsToSettlement } from '../../domain/market-time.js';
import { ascii, ByteWriter } from './bytes.js';
import { strikeKey } from './gex.js';
import { atmIv, calendarDays, chainsByDate, type Leg, type SurfaceInput } from './heatmap.js';

/** The surface as one run of members and where each lies. */
export interface SurfaceBytes {
  dtes_available: number[];
  dte_tile_counts: Record<string, number>;
  atm_iv: Record<string, number>;
  /** The members `"key":{…}`, comma-separated, in key order (the tiles' order). */
  run: Uint8Array;
  keys: string[];
  /** Per member: where its `"key":` starts, where its value starts, where it ends (exclusive). */
  start: Int32Array;
  value: Int32Array;
  end: Int32Array;
  /** False when a key came twice (then the later member holds the tile; the earlier one is not live). */
  contiguous: boolean;
  /** Per member: false when a later member has the same key. */
  live: Uint8Array;
  /** Key → its live member. */
  index: Map<string, number>;
}

const STRATEGY = {
  single: ascii(',"strategy":"single","width":'),
  butterfly: ascii(',"strategy":"butterfly","width":'),
  vertical: ascii(',"strategy":"vertical","width":'),
};
const CALL = ascii(',"call":');
const PUT = ascii(',"put":');
const MID = ascii('{"mid":');
const MARKET_MID = ascii(',"market_mid":');
const DEBIT = ascii('{"debit":');
const MAX_PROFIT = ascii(',"max_profit":');
const MAX_LOSS = ascii(',"max_loss":');
const MARKET_DEBIT = ascii(',"market_debit":');
const COLON_QUOTE = 0x22;
const KEY_END = ascii('":');

/** A side's numbers: single `{mid, market_mid?}` or spread `{debit(theo ?? market), market?}`. */
interface SideValue {
  /** Single: the mid; spread: the unrounded debit. */
  a: number;
  /** The market figure, or null. */
  m: number | null;
}

function spread(theo: number | null, market: number | null): SideValue | null {
  const debit = theo ?? market;
  if (debit === null || !Number.isFinite(debit)) return null;
  return { a: debit, m: market !== null && Number.isFinite(market) ? market : null };
}

/**
 * The surface's tiles as bytes. `capacity`: the bytes to reserve up front (a caller that knows the last
 * build's size passes a little more, so the writer does not grow 1 → 2 → 4 MB, copying as it goes), or a
 * buffer nothing else uses any more to write the run into (it grows into a new one if too small).
 */
export function marketSwarmSurfaceBytes(
  i: SurfaceInput,
  capacity: number | Uint8Array = 1 << 20,
): SurfaceBytes {
  const today = nyDate(i.asOfMs);
  const w = new ByteWriter(capacity);
  const keys: string[] = [];
  const starts: number[] = [];
  const values: number[] = [];
  const ends: number[] = [];
  const seen = new Map<string, number>();
  let contiguous = true;
  const dteCounts: Record<string, number> = {};
  const atm: Record<string, number> = {};
  const dtes: number[] = [];
  const symbolHead = ascii(`{"symbol":${JSON.stringify(i.symbol)},"dte":`);
  const spot = i.spot !== null && Number.isFinite(i.spot) && i.spot > 0 ? i.spot : null;
  const lo = spot === null ? -Infinity : spot * (1 - i.windowPct / 100);
  const hi = spot === null ? Infinity : spot * (1 + i.windowPct / 100);
  const widthText = i.widths.map((x) => ascii(String(x)));
  const chains = chainsByDate(i.contracts);
  for (const date of [...chains.keys()].sort()) {
    const chain = chains.get(date) as NonNullable<ReturnType<typeof chains.get>>;
    const dte = calendarDays(today, date);
    const t = yearsToSettlement(i.asOfMs, date, chain.root);
    if (dte < 0 || !(t > 0)) continue;
    const iv = spot === null ? null : atmIv(chain, spot);
    if (iv !== null) atm[String(dte)] = Math.round(iv * 1e6) / 1e6;
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
    const mid = (m: Map<number, Leg>, k: number): number | null => m.get(k)?.mid ?? null;
    const dteText = String(dte);
    let count = 0;
    let base: Uint8Array = new Uint8Array(0);
    const tile = (
      strategy: keyof typeof STRATEGY,
      key: string,
      width: Uint8Array,
      widthValue: number,
      call: SideValue | null,
      put: SideValue | null,
    ): void => {
      if (call === null && put === null) return;
      const prev = seen.get(key);
      if (prev !== undefined) contiguous = false;
      seen.set(key, keys.length);
      if (keys.length > 0) w.byte(0x2c);
      starts.push(w.pos);
      w.byte(COLON_QUOTE);
      w.ascii(key);
      w.bytes(KEY_END);
      values.push(w.pos);
      w.bytes(base);
      w.bytes(STRATEGY[strategy]);
      w.bytes(width);
      const side = (label: Uint8Array, v: SideValue | null): void => {
        if (v === null) return;
        w.bytes(label);
        if (strategy === 'single') {
          w.bytes(MID);
          w.cents(v.a);
          if (v.m !== null) {
            w.bytes(MARKET_MID);
            w.cents(v.m);
          }
        } else {
          w.bytes(DEBIT);
          w.cents(v.a);
          w.bytes(MAX_PROFIT);
          w.cents(widthValue - v.a);
          w.bytes(MAX_LOSS);
          w.cents(v.a);
          if (v.m !== null) {
            w.bytes(MARKET_DEBIT);
            w.cents(v.m);
          }
        }
        w.byte(0x7d);
      };
      side(CALL, call);
      side(PUT, put);
      w.byte(0x7d);
      ends.push(w.pos);
      keys.push(key);
      count++;
    };
    const strikes = [...new Set([...chain.calls.keys(), ...chain.puts.keys()])]
      .filter((k) => k >= lo && k <= hi)
      .sort((a, b) => a - b);
    const zero = ascii('0');
    for (const k of strikes) {
      base = ascii(`${dteText},"strike":${k}`);
      base = concat(symbolHead, base);
      const sk = strikeKey(k);
      const single: (SideValue | null)[] = [null, null];
      for (let n = 0; n < 2; n++) {
        const legs = n === 0 ? chain.calls : chain.puts;
        if (!legs.has(k)) continue;
        const m = mid(legs, k);
        const value = theo(n === 0 ? 'C' : 'P', k) ?? m;
        if (value === null) continue;
        single[n] = { a: value, m };
      }
      tile('single', `single:${dteText}:0:${sk}`, zero, 0, single[0] ?? null, single[1] ?? null);
      i.widths.forEach((wd, wi) => {
        const wt = widthText[wi] as Uint8Array;
        const fly: (SideValue | null)[] = [null, null];
        const vert: (SideValue | null)[] = [null, null];
        for (let n = 0; n < 2; n++) {
          const legs = n === 0 ? chain.calls : chain.puts;
          const side = n === 0 ? 'C' : 'P';
          if (legs.has(k - wd) && legs.has(k) && legs.has(k + wd)) {
            const a = mid(legs, k - wd);
            const b = mid(legs, k);
            const c = mid(legs, k + wd);
            const market = a !== null && b !== null && c !== null ? a - 2 * b + c : null;
            const ta = theo(side, k - wd);
            const tb = theo(side, k);
            const tc = theo(side, k + wd);
            fly[n] = spread(ta !== null && tb !== null && tc !== null ? ta - 2 * tb + tc : null, market);
          }
          const shortK = side === 'C' ? k + wd : k - wd;
          if (legs.has(k) && legs.has(shortK)) {
            const l = mid(legs, k);
            const s2 = mid(legs, shortK);
            const market = l !== null && s2 !== null ? l - s2 : null;
            const tl = theo(side, k);
            const ts2 = theo(side, shortK);
            vert[n] = spread(tl !== null && ts2 !== null ? tl - ts2 : null, market);
          }
        }
        tile('butterfly', `butterfly:${dteText}:${wd}:${sk}`, wt, wd, fly[0] ?? null, fly[1] ?? null);
        tile('vertical', `vertical:${dteText}:${wd}:${sk}`, wt, wd, vert[0] ?? null, vert[1] ?? null);
      });
    }
    if (count > 0) {
      dtes.push(dte);
      dteCounts[dteText] = (dteCounts[dteText] ?? 0) + count;
    }
  }
  const live = new Uint8Array(keys.length).fill(1);
  if (!contiguous) {
    live.fill(0);
    for (const idx of seen.values()) live[idx] = 1;
    // A key that came twice counts once (the tile it names is the later one).
    const counted: Record<string, number> = {};
    keys.forEach((k, n) => {
      if (live[n] !== 1) return;
      const d = k.split(':')[1] as string;
      counted[d] = (counted[d] ?? 0) + 1;
    });
    for (const d of Object.keys(dteCounts)) dteCounts[d] = counted[d] ?? 0;
  }
  return {
    dtes_available: [...new Set(dtes)].sort((a, b) => a - b),
    dte_tile_counts: dteCounts,
    atm_iv: atm,
    run: w.written(),
    keys,
    start: Int32Array.from(starts),
    value: Int32Array.from(values),
    end: Int32Array.from(ends),
    contiguous,
    live,
    index: seen,
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
