/**
 * @module Turns each published model version into its history record: a patch against the previous
 * version this encoder recorded for the same model and symbol, or a keyframe. Every patch is checked by
 * applying it and comparing the result with the published bytes; one that does not give them back exactly
 * becomes a keyframe. Runs on the history thread (see encoder-thread.ts).
 */
import { diff, applyPatch, type Json } from './patch.js';
import { encodeKeyframe, encodePatch, type RecordKind } from './record.js';
import { valuesOfGex, type HistoryValues } from './rows.js';

/** A keyframe at least every this many versions of a stream (bounds the records a read needs). */
export const KEYFRAME_EVERY = 10;
/** …and at least every this many seconds (bounds how long a keyframe must outlive the retention). */
export const KEYFRAME_MAX_AGE_SEC = 900;
/** A patch whose JSON is over this share of the document's is stored as a keyframe instead… */
const PATCH_MAX_SHARE = 0.5;
/** …when the document is at least this long (a small one costs nothing to read either way). */
const SIZE_RULE_MIN_BYTES = 16 * 1024;

export interface EncodeRequest {
  /** `gex:SPX`: one chain of versions per model and symbol. */
  stream: string;
  id: string;
  /** Publish time, epoch ms. */
  tsMs: number;
  published: Uint8Array;
  /** A GEX version: the result carries its series values. */
  gex: boolean;
}

export interface EncodeResult {
  stream: string;
  id: string;
  kind: RecordKind;
  record: Uint8Array;
  /** Published bytes (for the figures). */
  publishedBytes: number;
  /** Why a keyframe was written (`first`, `every`, `age`, `size`, `mismatch`), null for a patch. */
  keyframeReason: string | null;
  /** The series values of a GEX version. */
  values: HistoryValues | null;
}

interface Previous {
  id: string;
  doc: Json;
  /** Ids from the keyframe up to and including this version. */
  chain: string[];
  keyframeTsMs: number;
}

export class HistoryEncoder {
  private readonly prev = new Map<string, Previous>();

  /** Forgets a stream's previous version (its record was not stored): the next one is a keyframe. */
  reset(stream: string): void {
    this.prev.delete(stream);
  }

  encode(req: EncodeRequest): EncodeResult {
    const bytes = Buffer.from(req.published.buffer, req.published.byteOffset, req.published.byteLength);
    const text = bytes.toString('utf8');
    const doc = JSON.parse(text) as Json;
    const prev = this.prev.get(req.stream);
    const values = req.gex ? valuesOfGex(doc) : null;
    const keyframe = (reason: string): EncodeResult => {
      this.prev.set(req.stream, { id: req.id, doc, chain: [req.id], keyframeTsMs: req.tsMs });
      return {
        stream: req.stream,
        id: req.id,
        kind: 'keyframe',
        record: encodeKeyframe(bytes),
        publishedBytes: bytes.length,
        keyframeReason: reason,
        values,
      };
    };
    if (!prev) return keyframe('first');
    if (prev.chain.length >= KEYFRAME_EVERY) return keyframe('every');
    if (req.tsMs - prev.keyframeTsMs >= KEYFRAME_MAX_AGE_SEC * 1000) return keyframe('age');
    const patch = diff(prev.doc, doc);
    const patchJson = JSON.stringify(patch);
    if (text.length >= SIZE_RULE_MIN_BYTES && patchJson.length > PATCH_MAX_SHARE * text.length)
      return keyframe('size');
    // What a reader will rebuild: the previous version with the patch applied (the previous doc is ours).
    const rebuilt = applyPatch(prev.doc, patch);
    if (JSON.stringify(rebuilt) !== text) return keyframe('mismatch');
    const chain = [...prev.chain];
    this.prev.set(req.stream, {
      id: req.id,
      doc: rebuilt,
      chain: [...chain, req.id],
      keyframeTsMs: prev.keyframeTsMs,
    });
    return {
      stream: req.stream,
      id: req.id,
      kind: 'patch',
      record: encodePatch(chain, patchJson),
      publishedBytes: bytes.length,
      keyframeReason: null,
      values,
    };
  }
}
