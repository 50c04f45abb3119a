/**
 * @module Turns each published model version into its history record: a patch against the previous
 * version this encoder recorded for the same model and symbol, or a keyframe. The patch is a values patch
 * of the text when the two versions share their skeleton (values-patch.ts: one pass over the bytes, no
 * parse), else a structural patch of the parsed JSON (patch.ts). Every patch is checked by applying it and
 * comparing the result with the published bytes; one that does not give them back exactly becomes a
 * keyframe. The previous version is kept as its bytes. Runs on the history thread (see encoder-thread.ts).
 */
import { diff, applyPatch, type Json } from './patch.js';
import { applyValues, diffValues } from './values-patch.js';
import { encodeKeyframe, encodePatch, MAX_VERSION_BYTES, type RecordKind } from './record.js';
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
  /** Its published bytes (what a reader rebuilds: every record is checked to give them back). */
  bytes: Buffer;
  /** Ids from the keyframe up to and including this version. */
  chain: string[];
  keyframeTsMs: number;
}

export class HistoryEncoder {
  private readonly prev = new Map<string, Previous>();

  /** @param maxBytes the largest version kept (a reader refuses to inflate more: {@link MAX_VERSION_BYTES}). */
  constructor(private readonly maxBytes = MAX_VERSION_BYTES) {}

  /** Forgets a stream's previous version (its record was not stored): the next one is a keyframe. */
  reset(stream: string): void {
    this.prev.delete(stream);
  }

  encode(req: EncodeRequest): EncodeResult {
    const bytes = Buffer.from(req.published.buffer, req.published.byteOffset, req.published.byteLength);
    // Never stored: no reader could read it back. The stream starts again at its next version.
    if (bytes.length > this.maxBytes) {
      this.prev.delete(req.stream);
      throw new Error(`a version of ${bytes.length} bytes is over the history's ${this.maxBytes}: not kept`);
    }
    const prev = this.prev.get(req.stream);
    const values = req.gex ? valuesOfGex(JSON.parse(bytes.toString('utf8')) as Json) : null;
    const result = (kind: RecordKind, record: Buffer, keyframeReason: string | null): EncodeResult => ({
      stream: req.stream,
      id: req.id,
      kind,
      record,
      publishedBytes: bytes.length,
      keyframeReason,
      values,
    });
    const keyframe = (reason: string): EncodeResult => {
      this.prev.set(req.stream, { id: req.id, bytes, chain: [req.id], keyframeTsMs: req.tsMs });
      return result('keyframe', encodeKeyframe(bytes), reason);
    };
    if (!prev) return keyframe('first');
    if (prev.chain.length >= KEYFRAME_EVERY) return keyframe('every');
    if (req.tsMs - prev.keyframeTsMs >= KEYFRAME_MAX_AGE_SEC * 1000) return keyframe('age');
    const patch = patchOf(prev.bytes, bytes);
    if (bytes.length >= SIZE_RULE_MIN_BYTES && patch.json.length > PATCH_MAX_SHARE * bytes.length)
      return keyframe('size');
    if (!patch.exact) return keyframe('mismatch');
    this.prev.set(req.stream, {
      id: req.id,
      bytes,
      chain: [...prev.chain, req.id],
      keyframeTsMs: prev.keyframeTsMs,
    });
    return result(patch.kind, encodePatch(prev.chain, patch.json, patch.kind), null);
  }
}

/**
 * The patch from `prev` to `next`: a values patch when their skeletons match, else a structural one;
 * `exact` when applying it gives `next` back byte for byte (what a reader rebuilds).
 */
function patchOf(prev: Buffer, next: Buffer): { kind: 'patch' | 'values'; json: string; exact: boolean } {
  const vp = diffValues(prev, next);
  if (vp !== null) {
    let exact: boolean;
    try {
      exact = applyValues(prev, vp).equals(next);
    } catch {
      exact = false;
    }
    return { kind: 'values', json: JSON.stringify(vp), exact };
  }
  const text = next.toString('utf8');
  const prevDoc = JSON.parse(prev.toString('utf8')) as Json;
  const p = diff(prevDoc, JSON.parse(text) as Json);
  const json = JSON.stringify(p);
  // The size rule looks at the patch first: an oversized one is not applied.
  if (next.length >= SIZE_RULE_MIN_BYTES && json.length > PATCH_MAX_SHARE * next.length)
    return { kind: 'patch', json, exact: false };
  return { kind: 'patch', json, exact: JSON.stringify(applyPatch(prevDoc, p)) === text };
}
