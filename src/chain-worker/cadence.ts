/**
 * @module When the next cycle starts. Pure.
 *
 * Rule: wait the configured interval, measured from the start of the cycle; while a burst lasts
 * (contracts ≥ CHAIN_BURST_THRESHOLD, see {@link isBurst}) multiply it by CHAIN_BURST_INTERVAL_FACTOR (debounce); when the
 * cycle took longer than half the interval, wait at least twice the cycle time, so fetching never takes
 * more than half of the wall clock; never wait more than 8 × the interval. After a failed cycle, wait the
 * interval (the HTTP layer has already backed off within the cycle).
 */

export interface CadenceInput {
  intervalMs: number;
  cycleMs: number;
  burst: boolean;
  burstFactor: number;
}

/** Delay from the start of the finished cycle to the start of the next, ms. */
export function nextCycleDelayMs(i: CadenceInput): number {
  let delay = i.intervalMs * (i.burst ? i.burstFactor : 1);
  if (i.cycleMs > i.intervalMs / 2) delay = Math.max(delay, 2 * i.cycleMs);
  return Math.min(delay, 8 * i.intervalMs);
}

export interface BurstInput {
  /** Contracts the cycle fetched and accepted. */
  contracts: number;
  /** Expirations the cycle fetched (fewer than listed while the burst cap applies). */
  fetched: number;
  /** Expirations the chain lists (the uncapped fetch's); undefined: unknown, taken as fetched. */
  listed: number | undefined;
  threshold: number;
}

/**
 * Whether a cycle is (still) a burst: its contracts reach the threshold. A fetch capped at
 * CHAIN_BURST_MAX_EXPIRATIONS stands for the whole chain, so its contracts are counted per fetched
 * expiration over every listed one: otherwise the cap itself would end the burst, the next fetch (uncapped)
 * would start it again, and the epoch would flip between the capped and the whole chain every cycle.
 *
 * @example
 * isBurst({ contracts: 6_000, fetched: 3, listed: 5, threshold: 10_000 }); // true (6,000 / 3 × 5)
 */
export function isBurst(i: BurstInput): boolean {
  const listed = i.listed ?? i.fetched;
  const whole = i.fetched > 0 && listed > i.fetched ? (i.contracts / i.fetched) * listed : i.contracts;
  return whole >= i.threshold;
}
