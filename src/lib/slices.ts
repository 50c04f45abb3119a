/**
 * @module Per-chain work in bounded slices: a loop over every contract of a chain runs a slice at a time
 * and gives the event loop a turn between slices, so the longest stretch without a turn is one slice
 * (about a millisecond), whatever the size of the chain.
 */

/** Contracts per slice: ~0.5–1 ms of normalizing on one core. */
export const SLICE = 1_000;

/** Resolves on the next turn of the event loop (after pending I/O callbacks). */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Calls `fn` on consecutive slices `[start, end)` of `0..length`, yielding to the event loop between
 * slices (not before the first).
 */
export async function inSlices(
  length: number,
  fn: (start: number, end: number) => void,
  size = SLICE,
): Promise<void> {
  for (let start = 0; start < length; start += size) {
    if (start > 0) await nextTurn();
    fn(start, Math.min(length, start + size));
  }
}
