/**
 * @module A growable byte buffer for JSON written by hand (ASCII only): constant fragments, integers and
 * prices in cents, each written where it goes, with no intermediate string. Pure.
 */

const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Bytes already encoded (a constant fragment). */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    if (b.length < 24) for (let i = 0; i < b.length; i++) this.buf[this.pos++] = b[i] as number;
    else {
      this.buf.set(b, this.pos);
      this.pos += b.length;
    }
  }

  /** An ASCII string (numbers' text, keys). */
  ascii(s: string): void {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  /** A non-negative safe integer's digits. */
  private digits(n: number): void {
    if (n < 10) {
      this.buf[this.pos++] = ZERO + n;
      return;
    }
    let len = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) len++;
    let p = this.pos + len;
    for (let m = n; ;) {
      const q = Math.floor(m / 10);
      this.buf[--p] = ZERO + (m - q * 10);
      if (q === 0) break;
      m = q;
    }
    this.pos += len;
  }

  /**
   * `x` rounded to cents as JavaScript prints `Math.round(x * 100) / 100` (`12.3`, `-0.07`, `5`; `-0` as
   * `0`). Not finite: `null`.
   */
  cents(x: number): void {
    const n = Math.round(x * 100);
    if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) {
      this.ascii(Number.isFinite(n) ? String(n / 100) : 'null');
      return;
    }
    this.room(24);
    const a = n < 0 ? -n : n;
    if (n < 0) this.buf[this.pos++] = MINUS;
    const whole = Math.floor(a / 100);
    const frac = a - whole * 100;
    this.digits(whole);
    if (frac === 0) return;
    this.buf[this.pos++] = DOT;
    const d1 = Math.floor(frac / 10);
    const d2 = frac - d1 * 10;
    this.buf[this.pos++] = ZERO + d1;
    if (d2 !== 0) this.buf[this.pos++] = ZERO + d2;
  }
}

const enc = new TextEncoder();

/** A constant fragment's bytes. */
export function ascii(s: string): Uint8Array {
  return enc.encode(s);
}
