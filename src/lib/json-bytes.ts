/**
 * @module Scanning JSON text as bytes, where parsing it would cost more than reading it: the page threads
 * split a page's `results` into per-contract bytes, and the history diffs two versions of a model's text.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The index just past the JSON string whose opening quote is at `i`, or -1 when it never closes. */
export function jsonStringEnd(b: Uint8Array, i: number): number {
  for (let k = i + 1; k < b.length; k++) {
    const c = b[k] as number;
    if (c === BACKSLASH) k++;
    else if (c === QUOTE) return k + 1;
  }
  return -1;
}
