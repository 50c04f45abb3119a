/**
 * @module MarketSwarm's GEX keys (`massive:gex:model:{symbol}:calls` / `:puts`): per expiration and strike,
 * gamma × OI × 100, puts positive (readers compute net = calls − puts), of the contracts not yet settled at
 * the build's as-of time (as our GEX and the compat heatmap). Pure.
 */
import { yearsToSettlement } from '../../domain/market-time.js';
import type { ContractSubstrate } from '../../normalizers/substrate.js';
import { ByteWriter } from '../../models/byte-writer.js';
import { substratesOfColumns, type SubstrateColumns } from '../../models/substrate-columns.js';

export interface MarketSwarmGexSide {
  /** Unix seconds. */
  ts: number;
  /** Vendor form, e.g. `I:SPX`. */
  symbol: string;
  /** `YYYY-MM-DD` (sorted) → `str(int(strike))` → gamma·OI·100. */
  expirations: Record<string, Record<string, number>>;
}

/** MarketSwarm's strike key: the integer part of the strike (`6852.5` → `"6852"`). */
export function strikeKey(strike: number): string {
  return String(Math.trunc(strike));
}

/**
 * Both sides. Contracts with no or zero gamma, or no or zero OI, are left out, and so are contracts settled at
 * `asOfMs` (their root's settlement at or before it: the AM SPX monthly from 09:30 on its third Friday);
 * contracts that share a key (SPX and SPXW on the third Friday before 09:30, or two strikes with the same
 * integer part) are summed.
 *
 * @example
 * marketSwarmGex(contracts, 'I:SPX', 1764577498.123, asOfMs).calls.expirations['2026-01-16']['6850']; // 12345.6
 */
export function marketSwarmGex(
  contracts: readonly Pick<ContractSubstrate, 'expiration' | 'root' | 'strike' | 'type' | 'gamma' | 'oi'>[],
  symbol: string,
  tsSec: number,
  asOfMs: number,
): { calls: MarketSwarmGexSide; puts: MarketSwarmGexSide } {
  const sums = {
    calls: new Map<string, Map<string, number>>(),
    puts: new Map<string, Map<string, number>>(),
  };
  for (const c of contracts) {
    if (c.gamma === null || !Number.isFinite(c.gamma) || c.oi === null || !(c.oi > 0)) continue;
    // Settled (or a date that cannot be read): no gamma left.
    if (!(yearsToSettlement(asOfMs, c.expiration, c.root) > 0)) continue;
    const value = Math.abs(c.gamma) * c.oi * 100;
    // A zero gamma adds nothing and would only add an empty strike.
    if (!Number.isFinite(value) || value <= 0) continue;
    const side = c.type === 'call' || (c.type as string) === 'C' ? sums.calls : sums.puts;
    let byStrike = side.get(c.expiration);
    if (!byStrike) side.set(c.expiration, (byStrike = new Map<string, number>()));
    const k = strikeKey(c.strike);
    byStrike.set(k, (byStrike.get(k) ?? 0) + value);
  }
  const doc = (m: Map<string, Map<string, number>>): MarketSwarmGexSide => ({
    ts: tsSec,
    symbol,
    expirations: Object.fromEntries(
      [...m.keys()].sort().map((e) => {
        const byStrike = m.get(e) as Map<string, number>;
        const strikes = [...byStrike.keys()].sort((a, b) => Number(a) - Number(b));
        return [e, Object.fromEntries(strikes.map((s) => [s, byStrike.get(s) as number]))];
      }),
    ),
  });
  return { calls: doc(sums.calls), puts: doc(sums.puts) };
}

/** A key JSON would order before the others in an object (an array index): the written order would differ. */
const INDEX_LIKE = /^(?:0|[1-9]\d*)$/;

/**
 * {@link marketSwarmGex} on the substrate columns, each side's JSON written as `JSON.stringify` writes the
 * side (the same sums, in the same contract order): strikes summed under int(strike) as numbers, no key
 * string per contract, whether a contract has settled looked up once per (expiration, root). Falls back to
 * the objects when a key would not be a plain array index (negative, not finite) or an expiration would be
 * one (JSON's key order then differs from the sorted order).
 */
export function marketSwarmGexBytes(
  cols: SubstrateColumns,
  symbol: string,
  tsSec: number,
  asOfMs: number,
): { calls: Uint8Array; puts: Uint8Array } {
  // Per side and expiration: int(strike) → its sum's place in `sum` (a number there is not boxed).
  const at: [(Map<number, number> | undefined)[], (Map<number, number> | undefined)[]] = [[], []];
  let sum = new Float64Array(1024);
  let used = 0;
  let plain = !cols.expirations.some((e) => INDEX_LIKE.test(e));
  // Per (expiration, root): 1 not settled at asOfMs, -1 settled, 0 not looked up yet.
  const nr = cols.roots.length;
  const live = new Int8Array(cols.expirations.length * nr);
  const n = cols.strike.length;
  for (let i = 0; i < n && plain; i++) {
    const g = cols.gamma[i] as number;
    const oi = cols.oi[i] as number;
    if (!Number.isFinite(g) || !(oi > 0)) continue;
    const value = Math.abs(g) * oi * 100;
    if (!Number.isFinite(value) || value <= 0) continue;
    const e = cols.expiration[i] as number;
    const r = cols.root[i] as number;
    let l = live[e * nr + r] as number;
    if (l === 0) {
      const years = yearsToSettlement(asOfMs, cols.expirations[e] as string, cols.roots[r] as string);
      live[e * nr + r] = l = years > 0 ? 1 : -1;
    }
    if (l < 0) continue;
    const side = at[cols.call[i] === 1 ? 0 : 1];
    let byStrike = side[e];
    if (!byStrike) side[e] = byStrike = new Map<number, number>();
    const k = Math.trunc(cols.strike[i] as number);
    if (!(k >= 0 && k < 4_294_967_295)) plain = false;
    const j = byStrike.get(k);
    if (j !== undefined) sum[j] = (sum[j] as number) + value;
    else {
      if (used === sum.length) {
        const more = new Float64Array(used * 2);
        more.set(sum);
        sum = more;
      }
      byStrike.set(k, used);
      sum[used++] = value;
    }
  }
  if (!plain) {
    const gex = marketSwarmGex(substratesOfColumns(cols), symbol, tsSec, asOfMs);
    const enc = new TextEncoder();
    return { calls: enc.encode(JSON.stringify(gex.calls)), puts: enc.encode(JSON.stringify(gex.puts)) };
  }
  const order = cols.expirations
    .map((e, idx) => idx)
    .sort((a, b) => {
      const x = cols.expirations[a] as string;
      const y = cols.expirations[b] as string;
      return x < y ? -1 : x > y ? 1 : 0;
    });
  const head = `{"ts":${JSON.stringify(tsSec)},"symbol":${JSON.stringify(symbol)},"expirations":{`;
  const side = (bySide: (Map<number, number> | undefined)[]): Uint8Array => {
    const w = new ByteWriter(1 << 15);
    w.text(head);
    let first = true;
    for (const e of order) {
      const byStrike = bySide[e];
      if (!byStrike) continue;
      if (!first) w.byte(0x2c);
      first = false;
      w.text(JSON.stringify(cols.expirations[e])).text(':{');
      const strikes = new Float64Array(byStrike.size);
      let j0 = 0;
      byStrike.forEach((_, k) => (strikes[j0++] = k));
      strikes.sort();
      for (let j = 0; j < strikes.length; j++) {
        const k = strikes[j] as number;
        if (j > 0) w.byte(0x2c);
        w.byte(0x22).uint(k).text('":');
        w.text(JSON.stringify(sum[byStrike.get(k) as number]));
      }
      w.byte(0x7d);
    }
    w.text('}}');
    return w.finish();
  };
  return { calls: side(at[0]), puts: side(at[1]) };
}
