/**
 * @module Per-chain work in bounded slices: a loop over every contract of a chain runs a slice at a time
 * and gives the event loop a turn between slices, so the longest stretch without a turn is one slice
 * (about a millisecond), whatever the size of the chain.
 */

/** Contracts per slice: ~0.5–1 ms of normalizing on one core. */
export const SLICE = 1_000;

/**
 * Contracts per slice for work of tens of nanoseconds each (a field read and a comparison): ~0.2–0.5 ms
 * a slice, where slices of {@link SLICE} spent more on turns of the event loop than on the work.
 */
export const CHEAP_SLICE = 10_000;

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

/**
 * Bytes copied per turn by {@link copyInSlices}: a fresh buffer's first touch faults its pages in, so 1 MB
 * took 2–5 ms on a loaded 2-core VM; 256 KB stays around a millisecond.
 */
export const COPY_SLICE_BYTES = 256 * 1024;

/**
 * A copy of `src` in a buffer of its own (which can be transferred to a thread), made a slice of
 * `size` bytes per turn of the event loop: a 15 MB heatmap copied at once held the loop 17–27 ms.
 */
export async function copyInSlices(src: Uint8Array, size = COPY_SLICE_BYTES): Promise<Uint8Array> {
  const out = new Uint8Array(src.byteLength);
  await inSlices(src.byteLength, (start, end) => out.set(src.subarray(start, end), start), size);
  return out;
}
