/**
 * @module Per-chain work in bounded slices: a loop over every contract of a chain runs a slice at a time
 * and gives the event loop a turn between slices, so the longest stretch without a turn is one slice
 * (about a millisecond), whatever the size of the chain; the loops in flight share one budget per turn
 * ({@link TURN_BUDGET_MS}), so several loops side by side do not add up in one turn either.
 */
import { joinedRange } from './join-lines.js';

/** Contracts per slice: ~0.5–1 ms of normalizing on one core. */
export const SLICE = 1_000;

/**
 * Contracts per slice for work of tens of nanoseconds each (a field read and a comparison): ~0.2–0.5 ms
 * a slice, where slices of {@link SLICE} spent more on turns of the event loop than on the work.
 */
export const CHEAP_SLICE = 10_000;

/**
 * Main-thread time, ms, that the sliced loops in flight share in one turn of the event loop. Each loop
 * used to wait on an immediate of its own, so one turn ran a slice of every loop in flight (both symbols'
 * phases, the index, the substrates for the model thread): 8–22 ms of CPU in a turn at 40,000 contracts.
 * Now a turn wakes waiting loops, oldest first, until this much time has gone; the others wait for the
 * next turn, after the I/O that arrived meanwhile. A loop still gets at most one slice per turn.
 */
export const TURN_BUDGET_MS = 2;

/** Loops waiting for a turn, oldest first. */
let waiting: (() => void)[] = [];
let wakeQueued = false;

function queueWake(): void {
  if (wakeQueued) return;
  wakeQueued = true;
  setImmediate(() => void wakeWaiting());
}

/** One turn's share: wakes waiting loops one at a time until the budget is spent (at least one). */
async function wakeWaiting(): Promise<void> {
  wakeQueued = false;
  const batch = waiting;
  waiting = []; // a loop that asks again this turn waits for the next one
  const started = performance.now();
  for (let i = 0; i < batch.length; i++) {
    if (i > 0 && performance.now() - started >= TURN_BUDGET_MS) {
      waiting = batch.slice(i).concat(waiting);
      queueWake();
      return;
    }
    (batch[i] as () => void)();
    // The woken loop's continuation is queued first: its slice runs before the clock is read again.
    await Promise.resolve();
  }
}

/**
 * Resolves on a later turn of the event loop (after pending I/O callbacks), within the turn's shared
 * budget ({@link TURN_BUDGET_MS}).
 */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    waiting.push(resolve);
    queueWake();
  });
}

/**
 * Calls `fn` on consecutive slices `[start, end)` of `0..length`, each in a turn of the event loop
 * ({@link nextTurn}), the first one too: loops started together (a phase starts several, for both
 * symbols) would otherwise run their first slices in their caller's turn, beside each other, outside
 * the turn's budget.
 */
export async function inSlices(
  length: number,
  fn: (start: number, end: number) => void,
  size = SLICE,
): Promise<void> {
  for (let start = 0; start < length; start += size) {
    await nextTurn();
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

/** Lines joined per turn by {@link joinLinesInSlices}: ~100 KB of contract ids, well under a millisecond. */
export const JOIN_SLICE_LINES = 4_096;

/**
 * {@link joinLines}' bytes, a slice of lines per turn of the event loop: 20,000 contract ids joined at
 * once took 2–4 ms of one turn, beside the other loops of the write phase.
 */
export async function joinLinesInSlices(
  lines: readonly string[],
  trailing = false,
  size = JOIN_SLICE_LINES,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  await inSlices(lines.length, (start, end) => parts.push(joinedRange(lines, start, end, trailing)), size);
  return Buffer.concat(parts);
}
