/**
 * @module Buffers for the compat thread's outputs, handed back by the main thread once it has written them.
 *
 * Why: every buffer the compat thread transfers to the main thread is memory V8 counts towards the main
 * heap's next full collection (external memory allocated since the last one) until a collection frees it;
 * ~5 MB of heatmap document and diffs per symbol and burst brought those collections forward. The writer
 * transfers each build's buffers back when they are written (detached, they leave the main heap's count at
 * once) and the next build writes into them. Each isolate has its own pool (module state). Pure.
 */

/** The most buffers, and bytes, the pool keeps; what comes back beyond that is left to the collector. */
export const POOL_MAX_BUFFERS = 64;
export const POOL_MAX_BYTES = 64 * 1024 * 1024;
/** Smaller buffers (the GEX sides) are not kept: cheap to allocate, they would only take the pool's places. */
export const POOL_MIN_BYTES = 64 * 1024;

export class BytePool {
  private readonly free: ArrayBuffer[] = [];
  private bytes = 0;

  constructor(
    private readonly maxBuffers = POOL_MAX_BUFFERS,
    private readonly maxBytes = POOL_MAX_BYTES,
    private readonly minBytes = POOL_MIN_BYTES,
  ) {}

  /**
   * `size` bytes at the start of a buffer of their own (transferable): the smallest pooled one that holds
   * them and is at most twice their size, else a new one with an eighth to spare (the next build's sizes
   * move a little).
   */
  take(size: number): Uint8Array {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const n = (this.free[i] as ArrayBuffer).byteLength;
      if (n >= size && n <= 2 * size + 4096 && (best < 0 || n < (this.free[best] as ArrayBuffer).byteLength))
        best = i;
    }
    if (best >= 0) {
      const ab = this.free.splice(best, 1)[0] as ArrayBuffer;
      this.bytes -= ab.byteLength;
      return new Uint8Array(ab, 0, size);
    }
    return new Uint8Array(new ArrayBuffer(size + (size >> 3)), 0, size);
  }

  /** Buffers written and handed back (detached ones, of length 0, and small ones are skipped). */
  give(buffers: readonly ArrayBuffer[]): void {
    for (const ab of buffers) {
      if (ab.byteLength < Math.max(1, this.minBytes) || this.free.includes(ab)) continue;
      if (this.free.length >= this.maxBuffers || this.bytes + ab.byteLength > this.maxBytes) continue;
      this.free.push(ab);
      this.bytes += ab.byteLength;
    }
  }

  /** Buffers and bytes held, for tests. */
  get held(): { buffers: number; bytes: number } {
    return { buffers: this.free.length, bytes: this.bytes };
  }
}

/** This isolate's pool (the compat thread's, or the main thread's when building in-process). */
export const compatPool = new BytePool();
