/**
 * @module Integer cents written as text straight into a {@link ByteWriter}: the JSON number of a tile's
 * value and the order line's price, the same characters as `String(c / 100)` and `(|c| / 100).toFixed(2)`
 * without making a string per tile (hand-written: the heatmap writes ~40,000 of each per burst).
 */
import type { ByteWriter } from '../byte-writer.js';

/** Below this many cents the digits are written from the integer (both forms are then plain decimals). */
const EXACT = 1e15;

/** `|c| = whole·100 + frac`, with `whole` written. */
function writeWhole(w: ByteWriter, a: number): number {
  const frac = a % 100;
  w.uint((a - frac) / 100);
  return frac;
}

/**
 * Writes integer cents `c` as JSON writes the number `c / 100` (no `-0`).
 *
 * @example
 * writeCentsNumber(w, -305); // "-3.05"; 250 → "2.5"; 1200 → "12"
 */
export function writeCentsNumber(w: ByteWriter, c: number): void {
  const a = Math.abs(c);
  if (!(a < EXACT)) {
    w.text(String(c / 100 + 0));
    return;
  }
  if (c < 0) w.byte(0x2d);
  const frac = writeWhole(w, a);
  if (frac === 0) return;
  w.byte(0x2e);
  if (frac % 10 === 0) {
    w.byte(48 + frac / 10);
    return;
  }
  w.byte(48 + Math.floor(frac / 10)).byte(48 + (frac % 10));
}

/**
 * Writes `|c| / 100` to two decimals, as `Math.abs(c / 100).toFixed(2)` does.
 *
 * @example
 * writeCentsFixed(w, -10); // "0.10"
 */
export function writeCentsFixed(w: ByteWriter, c: number): void {
  const a = Math.abs(c);
  if (!(a < EXACT)) {
    w.text(Math.abs(c / 100).toFixed(2));
    return;
  }
  const frac = writeWhole(w, a);
  w.byte(0x2e)
    .byte(48 + Math.floor(frac / 10))
    .byte(48 + (frac % 10));
}
