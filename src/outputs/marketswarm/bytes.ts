/**
 * @module Bytes for JSON written by hand: the model builders' {@link TextByteWriter} with prices rounded to
 * cents as MarketSwarm's tiles print them, each written where it goes, with no intermediate string. Pure.
 */
import { ByteWriter as TextByteWriter } from '../../models/byte-writer.js';
import { writeCentsNumber } from '../../models/heatmap/cents-text.js';

/** The model builders' byte writer, with the MarketSwarm tiles' number form. */
export class ByteWriter extends TextByteWriter {
  /** Bytes written so far. */
  get pos(): number {
    return this.length;
  }

  /** An ASCII string (numbers' text, keys). */
  ascii(s: string): void {
    this.text(s);
  }

  /**
   * `x` rounded to cents as JavaScript prints `Math.round(x * 100) / 100` (`12.3`, `-0.07`, `5`; `-0` as
   * `0`). Not finite: `null`.
   */
  cents(x: number): void {
    this.centsOf(Math.round(x * 100));
  }

  /**
   * {@link cents} of `x` given as `Math.round(x * 100)` (a caller that rounds passes a small integer, not
   * the fractional number, which would be boxed on the way in).
   */
  centsOf(n: number): void {
    if (Number.isFinite(n)) writeCentsNumber(this, n);
    else this.text('null');
  }
}

const enc = new TextEncoder();

/** A constant fragment's bytes. */
export function ascii(s: string): Uint8Array {
  return enc.encode(s);
}
