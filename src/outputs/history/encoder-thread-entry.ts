/**
 * @module Entry point of the history thread: encodes published versions into history records, and
 * rebuilds a version from its records (reads), off the main thread either way.
 */
import { parentPort } from 'node:worker_threads';
import { lowerThisThread } from '../../lib/thread-priority.js';
import { HistoryEncoder, type EncodeRequest } from './encoder.js';
import { reconstruct } from './record.js';

// Before any work: this thread yields the core to the main thread's event loop (CHAIN_THREAD_NICE).
lowerThisThread();

const encoder = new HistoryEncoder();

parentPort?.on(
  'message',
  (msg: { id: number; req?: EncodeRequest; reset?: string; records?: Uint8Array[] }) => {
    if (msg.reset !== undefined) {
      encoder.reset(msg.reset);
      return;
    }
    if (msg.records) {
      try {
        const bytes = new Uint8Array(
          reconstruct(msg.records.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength))),
        );
        parentPort?.postMessage({ id: msg.id, ok: true, bytes }, [bytes.buffer]);
      } catch (err) {
        parentPort?.postMessage({ id: msg.id, ok: false, error: (err as Error).message });
      }
      return;
    }
    if (!msg.req) return;
    try {
      const res = encoder.encode(msg.req);
      parentPort?.postMessage({ id: msg.id, ok: true, res }, [res.record.buffer as ArrayBuffer]);
    } catch (err) {
      encoder.reset(msg.req.stream);
      parentPort?.postMessage({ id: msg.id, ok: false, error: (err as Error).message });
    }
  },
);
