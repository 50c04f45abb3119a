/**
 * @module The history's work on a worker thread, as messages: encode a published version, rebuild one from
 * its records, forget a stream. One encoder per thread (it keeps each stream's previous version), run by
 * the history thread of its own (encoder-thread-entry.ts, the serving process's reads) or by the model
 * thread after its builds (models/model-thread-entry.ts, the worker's: one isolate fewer).
 */
import type { TransferListItem } from 'node:worker_threads';
import { HistoryEncoder, type EncodeRequest } from './encoder.js';
import { reconstruct } from './record.js';

/** Encode a version: replies `{id, ok, res}` (the record transferred) or `{id, ok: false, error}`. */
export interface EncodeMessage {
  id: number;
  encode: EncodeRequest;
}
/** Rebuild a version from its records, keyframe first: replies `{id, ok, bytes}`. */
export interface ReconstructMessage {
  id: number;
  records: Uint8Array[];
}
/** The stream's next version is a keyframe (no reply). */
export interface ResetMessage {
  id: 0;
  reset: string;
}
export type HistoryMessage = EncodeMessage | ReconstructMessage | ResetMessage;

export function isHistoryMessage(msg: object): msg is HistoryMessage {
  return 'encode' in msg || 'records' in msg || 'reset' in msg;
}

type Post = (msg: unknown, transfer?: readonly TransferListItem[]) => void;

/** A handler of {@link HistoryMessage}s over one encoder, replying through `post`. */
export function historyLane(post: Post): (msg: HistoryMessage) => void {
  const encoder = new HistoryEncoder();
  return (msg) => {
    if ('reset' in msg) {
      encoder.reset(msg.reset);
      return;
    }
    if ('records' in msg) {
      try {
        const bytes = new Uint8Array(
          reconstruct(msg.records.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength))),
        );
        post({ id: msg.id, ok: true, bytes }, [bytes.buffer]);
      } catch (err) {
        post({ id: msg.id, ok: false, error: (err as Error).message });
      }
      return;
    }
    try {
      const res = encoder.encode(msg.encode);
      post({ id: msg.id, ok: true, res }, [res.record.buffer as ArrayBuffer]);
    } catch (err) {
      encoder.reset(msg.encode.stream);
      post({ id: msg.id, ok: false, error: (err as Error).message });
    }
  };
}
