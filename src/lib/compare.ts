/**
 * @module Orders of strings that need no locale. Why not `localeCompare`: its first call loads ICU's
 * collation data (~2.7 MB resident) to sort ASCII names (roots, instances, symbols) whose order is the same
 * by code unit, and the same on every machine.
 */

/** Ascending by UTF-16 code unit (`Array.prototype.sort`'s own order), as a comparator. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `12345678` → `12,345,678`: an integer's digits in groups of three (help and error texts). */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
