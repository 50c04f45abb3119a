/**
 * @module The simulated chains the in-process benchmarks use: a symbol's substrates at a market time, the
 * nearest `MASSIVE_CHAIN_NUM_EXPIRATIONS` (5) expirations as the worker fetches them; the burst market gives
 * about 10,000 contracts per symbol (20,000 for SPX + NDX).
 */
import { normalizeSnapshot } from '../src/normalizers/registry.js';
import type { ContractSubstrate } from '../src/normalizers/substrate.js';
import { parseContract } from '../src/provider/massive/parse-contract.js';
import type { ParsedContract } from '../src/provider/massive/types.js';
import type { SimMarket } from '../src/provider/sim/sim-market.js';

export const BENCH_WIDTHS: Record<string, number[]> = {
  SPX: [20, 25, 30, 35, 40, 45, 50],
  NDX: [50, 100, 150, 200],
};

export function simSubstrates(
  market: SimMarket,
  underlying: string,
  nowMs: number,
  expirations = 5,
): { contracts: ContractSubstrate[]; spot: number | null } {
  const ticker = `I:${underlying}`;
  const parsed: ParsedContract[] = [];
  let spot: number | null = null;
  for (const exp of market.expirations(ticker, nowMs).slice(0, expirations)) {
    const chain = market.chain(ticker, nowMs, exp);
    if (!chain) continue;
    spot = chain.underlyingAsset.value ?? spot;
    for (const raw of chain.results) {
      const p = parseContract(raw);
      if (p.ok) parsed.push(p.contract);
    }
  }
  return { contracts: normalizeSnapshot(parsed, { underlying, asOf: nowMs }).records, spot };
}
