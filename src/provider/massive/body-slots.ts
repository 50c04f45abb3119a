/**
 * @module Page bodies read into memory the process keeps: shared buffers, one page each, reused page after
 * page, that the page threads read in place (see page-pool.ts).
 *
 * Why: a page body read into a buffer of its own (~165 KB for 250 contracts) was allocated on the main
 * thread, transferred to a page thread and freed only at that thread's next full collection, which its
 * small heap seldom needs: each page thread held 9–15 MB of dead page bodies, and glibc's arenas kept the
 * high-water mark. A slot is taken when a body has arrived, written once, and given back when its page
 * thread has decoded it; a thread learns each buffer once, so a page crosses as an index and a length.
 */

/**
 * The memory of `bytes` as an ArrayBuffer the caller may transfer: its own when `bytes` views all of an
 * ArrayBuffer, else a copy (a view of part of one, or of a shared buffer such as a body slot).
 */
export function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  const ab = bytes.buffer;
  if (ab instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === ab.byteLength) return ab;
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}

/** A body's memory, on loan until `release` (idempotent). */
export interface BodyLease {
  /** The body's bytes (a view of `length` bytes of a shared buffer). */
  readonly bytes: Buffer;
  release(): void;
}

/** Where a body may be read into; null: read it into a buffer of its own. */
export interface BodyStore {
  lease(length: number): BodyLease | null;
}

/** A slot: one shared buffer, its index in the store (what a page thread caches it by). */
export interface BodySlot {
  readonly index: number;
  readonly buffer: SharedArrayBuffer;
}

/** Smallest slot: 64 KiB (a page of a few dozen contracts). */
const MIN_SLOT = 64 * 1024;
/** Largest slot: 4 MiB; a larger page (none the API sends at 250 contracts a page) takes its own buffer. */
const MAX_SLOT = 4 * 1024 * 1024;

/** The slot size for a body of `length` bytes: the next power of two, at least {@link MIN_SLOT}; null if too large. */
export function slotSize(length: number): number | null {
  if (!Number.isInteger(length) || length < 0 || length > MAX_SLOT) return null;
  let size = MIN_SLOT;
  while (size < length) size *= 2;
  return size;
}

/**
 * Shared buffers for page bodies, by size, at most `capBytes` in all (16 MiB: the stream concurrency's
 * pages in flight and those queued for the threads fit many times over). Beyond the cap, `lease` returns
 * null and the body takes a buffer of its own, as before.
 */
export class BodySlots implements BodyStore {
  private readonly free = new Map<number, BodySlot[]>();
  private readonly all: BodySlot[] = [];
  private readonly byBuffer = new WeakMap<SharedArrayBuffer, BodySlot>();
  private bytes = 0;

  constructor(private readonly capBytes = 16 * 1024 * 1024) {}

  /** Bytes of shared buffers made so far. */
  get allocatedBytes(): number {
    return this.bytes;
  }

  /** Slots on loan now. */
  get leased(): number {
    let free = 0;
    for (const list of this.free.values()) free += list.length;
    return this.all.length - free;
  }

  lease(length: number): BodyLease | null {
    const size = slotSize(length);
    if (size === null) return null;
    let slot = this.free.get(size)?.pop();
    if (!slot) {
      if (this.bytes + size > this.capBytes) return null;
      slot = { index: this.all.length, buffer: new SharedArrayBuffer(size) };
      this.all.push(slot);
      this.byBuffer.set(slot.buffer, slot);
      this.bytes += size;
    }
    const taken = slot;
    let released = false;
    return {
      bytes: Buffer.from(taken.buffer, 0, length),
      release: () => {
        if (released) return;
        released = true;
        const list = this.free.get(size);
        if (list) list.push(taken);
        else this.free.set(size, [taken]);
      },
    };
  }

  /** The slot whose buffer `bytes` views, or undefined when `bytes` is not a body of this store. */
  slotOf(bytes: Buffer): BodySlot | undefined {
    const buf = bytes.buffer;
    return buf instanceof SharedArrayBuffer && bytes.byteOffset === 0 ? this.byBuffer.get(buf) : undefined;
  }
}
