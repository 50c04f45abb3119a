/**
 * @module Entry point of the history thread: encodes published versions into history records.
 */
import { parentPort } from 'node:worker_threads';
import { HistoryEncoder, type EncodeRequest } from './encoder.js';

const encoder = new HistoryEncoder();

parentPort?.on('message', (msg: { id: number; req?: EncodeRequest; reset?: string }) => {
  if (msg.reset !== undefined) {
    encoder.reset(msg.reset);
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
});
