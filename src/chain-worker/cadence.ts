/**
 * @module When the next cycle starts. Pure.
 *
 * Rule: wait the configured interval, measured from the start of the cycle; while a burst lasts
 * (contracts ≥ CHAIN_BURST_THRESHOLD) multiply it by CHAIN_BURST_INTERVAL_FACTOR (debounce); when the
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
