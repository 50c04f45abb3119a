/**
 * @module Entry point of a page thread: decodes the pages the main thread sends (see page-pool.ts) and
 * hands back the decoded page, transferred; with `opts.writes`, also the page's pre-encoded bulk writes
 * (wiring/page-writes.ts), which hold every contract's bytes as fetched. The page bytes go back only when
 * the main thread reads contracts out of them (no writes): every buffer transferred into the main thread
 * counts towards its heap's next full collection (see page-pool.ts).
 */
import { parentPort } from 'node:worker_threads';
import { lowerThisThread } from '../../lib/thread-priority.js';
import { decodePageWithWrites, PageSyntaxError, type DecodeOptions } from './page-decode.js';
import type { PageReply } from './page-pool.js';

// Before any work: this thread yields the core to the main thread's event loop (CHAIN_THREAD_NICE).
lowerThisThread();

parentPort?.on('message', (msg: { id: number; bytes: ArrayBuffer; opts: DecodeOptions }) => {
  let reply: PageReply;
  try {
    const bytes = Buffer.from(msg.bytes);
    const page = decodePageWithWrites(bytes, msg.opts);
    reply = { id: msg.id, ok: true, page, bytes: page.writes ? null : msg.bytes };
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
