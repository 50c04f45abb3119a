/**
 * @module Decodes chain pages off the main thread: a small pool of worker threads, each receiving a
 * page's bytes (read into a shared body slot, see body-slots.ts, or else transferred; never copied) and
 * sending back the decoded page (typed arrays, transferred): with pre-encoded writes (the chain client's
 * way), the writes hold each contract's raw JSON and the page bytes do not come back; without, they come
 * back too (a copy, when they were in a slot), so the main thread keeps zero-copy slices of each
 * contract's raw JSON.
 *
 * Why the bytes stay: V8 (Node 20) counts every buffer a thread transfers into the main thread, as every
 * buffer allocated there, towards its heap's next full collection (external memory since the last one);
 * in the burst worker that memory, not the objects, starts nearly all of them. The page bytes coming back
 * were ~11 MB per 20,000-contract burst of it, for nothing.
 *
 * Why: JSON.parse, the byte split and the lift cost ~3 ms per 250-contract page, and pages of concurrent
 * streams arrive together: on the main thread 10–20 of them ran in one turn of the event loop (30–80 ms).
 *
 * Threads start lazily, are restarted if one dies, and are unref'd while idle (an idle pool never keeps
 * the process alive). Without the compiled thread script (running from TypeScript sources without a
 * build) pages are decoded inline.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { isThreadNiceFailure, threadNiceData } from '../../lib/thread-priority.js';
import { BodySlots, ownBuffer, type BodyLease, type BodyStore } from './body-slots.js';
import { threadScript } from '../../lib/worker-rpc.js';
import {
  decodePageWithWrites,
  PageSyntaxError,
  type DecodedPage,
  type DecodeOptions,
} from './page-decode.js';

/** A decoded page and its bytes (the same memory that went in, handed back). */
export interface PageDecodeResult {
  page: DecodedPage;
  /** The page bytes; null when the page has encoded writes (`page.writes` holds the contracts' bytes). */
  bytes: Buffer | null;
}

export interface PageDecoder {
  /**
   * Decodes `bytes`; the caller must not use `bytes` afterwards (use the returned `bytes`), except bytes
   * leased from `bodies`, which stay the caller's (to release once this has settled).
   */
  decode(bytes: Buffer, opts: DecodeOptions): Promise<PageDecodeResult>;
  /** Where page bodies are best read into, if anywhere (the page threads read them in place). */
  readonly bodies?: BodyStore;
  close(): Promise<void>;
}

/** Decodes on the calling thread (tests, and runs from sources without a build). */
export const inlineDecoder: PageDecoder = {
  decode(bytes, opts) {
    return Promise.resolve({ page: decodePageWithWrites(bytes, opts), bytes });
  },
  close: () => Promise.resolve(),
};

/** A page for a page thread: its bytes transferred, or in a body slot (its buffer sent once per thread). */
export type PageRequest = { id: number; opts: DecodeOptions } & (
  { bytes: ArrayBuffer } | { slot: number; length: number; buffer?: SharedArrayBuffer }
);

/** A page thread's answer. */
export type PageReply =
  | { id: number; ok: true; page: DecodedPage; bytes: ArrayBuffer | null }
  | { id: number; ok: false; syntax: boolean; error: string };

interface Pending {
  resolve: (r: PageDecodeResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Requests sent to this thread and not answered yet. */
  ids: Set<number>;
  /** Body slots whose buffer this thread has been sent. */
  slots: Set<number>;
}

function pageThreadScript(): string | null {
  return threadScript(
    import.meta.url,
    'page-thread-entry.js',
    'dist/src/provider/massive/page-thread-entry.js',
  );
}

/**
 * Page threads for a machine with `cores` cores: one fewer than the cores, at least one and at most two.
 * The main thread (and, beside it, Redis and the model thread) needs a core while pages decode; on two
 * cores a second page thread won the burst ~3 % and cost ~10–15 MB of RSS, an isolate of its own
 * (README "Performance", Memory).
 */
export function pageThreadsFor(cores: number): number {
  return Math.max(1, Math.min(2, Math.floor(cores) - 1));
}

/** Threads in the default pool: {@link pageThreadsFor} this machine's available parallelism. */
export function defaultPageThreads(): number {
  return pageThreadsFor(availableParallelism());
}

export class PagePool implements PageDecoder, BodyStore {
  private readonly slots: (Slot | undefined)[];
  private readonly bodySlots = new BodySlots();
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closed = false;

  constructor(
    private readonly threads = defaultPageThreads(),
    private readonly script: string | null = pageThreadScript(),
  ) {
    this.slots = new Array<Slot | undefined>(Math.max(1, threads)).fill(undefined);
  }

  /** Threads the pool runs at most (each started on its first page). */
  get size(): number {
    return this.slots.length;
  }

  /** True when pages go to threads (false: no compiled thread script, pages are decoded inline). */
  get threaded(): boolean {
    return this.script !== null;
  }

  /** Threads running now. */
  get running(): number {
    return this.slots.filter((s) => s !== undefined).length;
  }

  /** Bodies are read into shared slots when pages go to threads. */
  get bodies(): BodyStore | undefined {
    return this.script ? this : undefined;
  }

  lease(length: number): BodyLease | null {
    return this.script && !this.closed ? this.bodySlots.lease(length) : null;
  }

  /** Shared body memory made so far, bytes (it is kept and reused). */
  get bodyBytes(): number {
    return this.bodySlots.allocatedBytes;
  }

  /** Body slots on loan now. */
  get bodiesLeased(): number {
    return this.bodySlots.leased;
  }

  decode(bytes: Buffer, opts: DecodeOptions): Promise<PageDecodeResult> {
    if (this.closed) return Promise.reject(new Error('page pool closed'));
    if (!this.script) return inlineDecoder.decode(bytes, opts);
    const slot = this.pick(this.script);
    const id = ++this.seq;
    const body = this.bodySlots.slotOf(bytes);
    return new Promise<PageDecodeResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (slot.ids.size === 0) slot.worker.ref();
      slot.ids.add(id);
      if (body) {
        const first = !slot.slots.has(body.index);
        slot.slots.add(body.index);
        const msg: PageRequest = { id, opts, slot: body.index, length: bytes.length };
        slot.worker.postMessage(first ? { ...msg, buffer: body.buffer } : msg);
      } else {
        const ab = ownBuffer(bytes);
        slot.worker.postMessage({ id, bytes: ab, opts } satisfies PageRequest, [ab]);
      }
    });
  }

  /** The least busy thread (started if needed). */
  private pick(script: string): Slot {
    let best: Slot | undefined;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i] ?? this.start(script, i);
      if (!best || s.ids.size < best.ids.size) best = s;
      if (s.ids.size === 0) break;
    }
    return best as Slot;
  }

  private start(script: string, index: number): Slot {
    // A 4 MB young generation: a page's parsed contracts die in it. With 2 MB they outlived a scavenge, were
    // promoted and the old space grew to the live set + V8's 8 MB step before a full GC: the thread's heap
    // peaked at 18.5–20.2 MB against 9.5 (5 Dec, 20,000 contracts; 8 MB: 13.5). See `tuneHeap`.
    // workerData: how much the thread lowers its own priority (lib/thread-priority.ts).
    const worker = new Worker(script, {
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
      workerData: threadNiceData(),
    });
    worker.unref();
    const slot: Slot = { worker, ids: new Set(), slots: new Set() };
    worker.on('message', (msg: PageReply) => {
      if (isThreadNiceFailure(msg)) return;
      const p = this.pending.get(msg.id);
      slot.ids.delete(msg.id);
      if (slot.ids.size === 0) worker.unref();
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve({ page: msg.page, bytes: msg.bytes ? Buffer.from(msg.bytes) : null });
      else p.reject(msg.syntax ? new PageSyntaxError(msg.error) : new Error(msg.error));
    });
    const fail = (err: Error): void => {
      if (this.slots[index] === slot) this.slots[index] = undefined;
      for (const id of slot.ids) {
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.reject(err);
      }
      slot.ids.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`page thread exited with code ${code}`)));
    this.slots[index] = slot;
    return slot;
  }

  /** Stops the threads. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = this.slots.flatMap((s) => (s ? [s.worker] : []));
    this.slots.fill(undefined);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

let shared: PagePool | undefined;
let sharedThreads = 0;

/**
 * The size of the process-wide pool (`CHAIN_PAGE_THREADS`; 0 = {@link defaultPageThreads}), for the pool
 * {@link sharedPagePool} creates on its first use; a pool already created keeps its size.
 */
export function configurePagePool(threads: number): void {
  sharedThreads = threads;
}

/** The process-wide page pool (threads start on first use; idle threads never keep the process alive). */
export function sharedPagePool(): PagePool {
  shared ??= new PagePool(sharedThreads > 0 ? sharedThreads : defaultPageThreads());
  return shared;
}
