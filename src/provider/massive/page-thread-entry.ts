/**
 * @module Entry point of a page thread: decodes the pages the main thread sends (see page-pool.ts: in a
 * body slot, whose shared buffer comes with its first page, or transferred) and hands back the decoded
 * page, transferred; with `opts.writes`, also the page's pre-encoded bulk writes (wiring/page-writes.ts),
 * which hold every contract's bytes as fetched. The page bytes go back only when the main thread reads
 * contracts out of them (no writes; a copy when they were in a slot): every buffer transferred into the
 * main thread counts towards its heap's next full collection (see page-pool.ts).
 */
import { parentPort } from 'node:worker_threads';
import { lowerThisThread } from '../../lib/thread-priority.js';
import { ownBuffer } from './body-slots.js';
import { decodePageWithWrites, PageSyntaxError } from './page-decode.js';
import type { PageReply, PageRequest } from './page-pool.js';

// Before any work: this thread yields the core to the main thread's event loop (CHAIN_THREAD_NICE).
lowerThisThread();

/** The body slots' buffers, by slot (each sent once, with the first page read into it). */
const slots = new Map<number, SharedArrayBuffer>();

function pageBytes(msg: PageRequest): Buffer {
  if ('bytes' in msg) return Buffer.from(msg.bytes);
  if (msg.buffer) slots.set(msg.slot, msg.buffer);
  const buffer = slots.get(msg.slot);
  if (!buffer) throw new Error(`page thread: unknown body slot ${msg.slot}`);
  return Buffer.from(buffer, 0, msg.length);
}

parentPort?.on('message', (msg: PageRequest) => {
  let reply: PageReply;
  try {
    const bytes = pageBytes(msg);
    const page = decodePageWithWrites(bytes, msg.opts);
    // A page in a slot goes back as a copy: the slot is the main thread's again once this answers.
    const back = page.writes ? null : 'bytes' in msg ? msg.bytes : ownBuffer(bytes);
    reply = { id: msg.id, ok: true, page, bytes: back };
  } catch (err) {
    const syntax = err instanceof PageSyntaxError;
    reply = { id: msg.id, ok: false, syntax, error: (err as Error).message };
  }
  const transfer: ArrayBuffer[] = reply.ok && reply.bytes ? [reply.bytes] : [];
  if (reply.ok) {
    const p = reply.page;
    transfer.push(
      p.status.buffer as ArrayBuffer,
      p.types.buffer as ArrayBuffer,
      p.nums.buffer as ArrayBuffer,
      p.ranges.buffer as ArrayBuffer,
      p.rootIds.buffer as ArrayBuffer,
      p.expirationIds.buffer as ArrayBuffer,
    );
    if (p.writes) transfer.push(p.writes.bytes.buffer as ArrayBuffer, p.writes.offsets.buffer as ArrayBuffer);
  }
  parentPort?.postMessage(reply, transfer);
});
