/**
 * @module MarketSwarm's GEX keys (`massive:gex:model:{symbol}:calls` / `:puts`): per expiration and strike,
 * gamma × OI × 100, puts positive (readers compute net = calls − puts). Pure.
 */
import type { ContractSubstrate } from '../../normalizers/substrate.js';

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
 * Both sides. Contracts with no or zero gamma, or no or zero OI, are left out; contracts that share a key (SPX and
 * SPXW on the third Friday, or two strikes with the same integer part) are summed.
 *
 * @example
 * marketSwarmGex(contracts, 'I:SPX', 1764577498.123).calls.expirations['2026-01-16']['6850']; // 12345.6
 */
export function marketSwarmGex(
  contracts: readonly Pick<ContractSubstrate, 'expiration' | 'strike' | 'type' | 'gamma' | 'oi'>[],
  symbol: string,
  tsSec: number,
): { calls: MarketSwarmGexSide; puts: MarketSwarmGexSide } {
  const sums = {
    calls: new Map<string, Map<string, number>>(),
    puts: new Map<string, Map<string, number>>(),
  };
  for (const c of contracts) {
    if (c.gamma === null || !Number.isFinite(c.gamma) || c.oi === null || !(c.oi > 0)) continue;
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
