/**
 * @module Orders of strings that need no locale. Why not `localeCompare`: its first call loads ICU's
 * collation data (~2.7 MB resident) to sort ASCII names (roots, instances, symbols) whose order is the same
 * by code unit, and the same on every machine.
 */

/** Ascending by UTF-16 code unit (`Array.prototype.sort`'s own order), as a comparator. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Numbers in ascending order, as a comparator. A module-level function rather than a comparator written
 * inline at each sort: a closure made per call loses its optimized code to the next full collection once
 * the call is over (see shape-anchors.ts), and the model builds sort thousands of numbers per build.
 */
export function ascending(a: number, b: number): number {
  return a - b;
}

/** `12345678` → `12,345,678`: an integer's digits in groups of three (help and error texts). */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
