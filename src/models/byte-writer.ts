/**
 * @module A growable UTF-8 byte buffer that text is appended to, for JSON written piece by piece.
 *
 * Why: the heatmap's JSON is ~20,000 tiles per symbol (4–5 MB) written from short pieces. As a string it
 * was a rope of ~10⁶ pieces that V8 had to allocate, flatten and then UTF-8-encode: the model thread spent
 * more time there than in the pricing. Appending the pieces' bytes to one buffer does none of that
 * (measured in the heatmap's commit).
 */

const utf8 = new TextEncoder();

export class ByteWriter {
  private buf: Uint8Array;
  /** Bytes written so far; setting it back (to a value it had) drops what was written since. */
  length = 0;

  /** @param capacity bytes to start with, or a buffer to write into from its start (reused, not copied). */
  constructor(capacity: number | Uint8Array = 1 << 16) {
    this.buf = typeof capacity === 'number' ? new Uint8Array(Math.max(16, capacity)) : capacity;
  }

  /** Room for `n` more bytes. */
  private reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  /** Appends `s` as UTF-8 (ASCII byte by byte; anything else through the encoder). */
  text(s: string): this {
    const n = s.length;
    // Hand-written: most pieces are a few ASCII characters, where a loop beats encodeInto's call.
    this.reserve(n);
    const buf = this.buf;
    let o = this.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.length = o;
        return this.encoded(s.slice(i));
      }
      buf[o++] = c;
    }
    this.length = o;
    return this;
  }

  /** Appends `s` through the UTF-8 encoder (any text; a lone surrogate becomes U+FFFD as TextEncoder does). */
  private encoded(s: string): this {
    this.reserve(s.length * 3);
    const { written } = utf8.encodeInto(s, this.buf.subarray(this.length));
    this.length += written;
    return this;
  }

  /** Appends bytes already encoded (a constant fragment, or a run written before). */
  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    if (b.length < 24) for (let i = 0; i < b.length; i++) this.buf[this.length++] = b[i] as number;
    else {
      this.buf.set(b, this.length);
      this.length += b.length;
    }
    return this;
  }

  /** Appends `src[start, end)` (a piece of a run written before) without a view of it for short pieces. */
  range(src: Uint8Array, start: number, end: number): this {
    const n = end - start;
    this.reserve(n);
    const buf = this.buf;
    let o = this.length;
    if (n < 64) for (let i = start; i < end; i++) buf[o++] = src[i] as number;
    else {
      buf.set(src.subarray(start, end), o);
      o += n;
    }
    this.length = o;
    return this;
  }

  /**
   * Appends again the bytes at `[start, end)` of what was written (a piece written once and repeated, e.g.
   * the same number or the same key prefix), with no intermediate copy.
   */
  repeat(start: number, end: number): this {
    const n = end - start;
    this.reserve(n);
    const buf = this.buf;
    let o = this.length;
    if (n < 24) for (let i = start; i < end; i++) buf[o++] = buf[i] as number;
    else {
      buf.copyWithin(o, start, end);
      o += n;
    }
    this.length = o;
    return this;
  }

  /** Appends one byte (an ASCII character code). */
  byte(c: number): this {
    this.reserve(1);
    this.buf[this.length++] = c;
    return this;
  }

  /** Appends a non-negative integer below 2⁵³ in decimal (as `String(n)` writes it). */
  uint(n: number): this {
    if (n < 10) return this.byte(48 + n);
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    this.reserve(digits);
    const buf = this.buf;
    let o = this.length + digits;
    this.length = o;
    let x = n;
    while (x >= 10) {
      const q = Math.floor(x / 10);
      buf[--o] = 48 + (x - q * 10);
      x = q;
    }
    buf[--o] = 48 + x;
    return this;
  }

  /** The bytes written so far, as a view of the buffer (valid until the next append). */
  written(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** The bytes written, in a fresh buffer of their exact size (its own ArrayBuffer, transferable). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /**
   * {@link finish} without the copy when the writer was sized exactly (its buffer is full): the buffer
   * itself, which the writer then gives up (it holds an empty one). Otherwise a copy, as `finish`.
   */
  take(): Uint8Array {
    return this.takeView(0);
  }

  /**
   * The bytes written as a view of the writer's own buffer (its own ArrayBuffer, transferable; the writer
   * gives it up) when at most `maxSlack` bytes of it are unused; otherwise a copy of exactly their size, as
   * {@link finish}. For a writer sized from an estimate: the copy of a multi-MB document is skipped, at the
   * cost of the slack travelling with it. Readers must honour the view's `byteOffset` and `byteLength`.
   */
  takeView(maxSlack: number): Uint8Array {
    if (this.buf.length - this.length > maxSlack) return this.finish();
    const out = this.buf.subarray(0, this.length);
    this.buf = new Uint8Array(16);
    this.length = 0;
    return out;
  }
}
