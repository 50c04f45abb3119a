/**
 * @module The stored form of one model version in the history: a keyframe (the published bytes, brotli)
 * or a patch against the version before it (a values patch of the text, values-patch.ts, or a structural
 * patch of the parsed JSON, patch.ts; as JSON, brotli), and how to read them back to the published bytes.
 * Pure apart from node:zlib.
 *
 * Layout: `CWH1` (4 bytes), kind (1 byte: 0 keyframe, 1 structural patch, 2 values patch), header length
 * (uint32 BE), header JSON
 * `{chain: [version ids, keyframe first, up to the base]}` (`{chain: []}` for a keyframe), then the brotli
 * body. The chain lets a reader fetch every record it needs in one round trip.
 */
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { applyPatch, type Json, type PatchNode } from './patch.js';
import { applyValues, type ValuesPatch } from './values-patch.js';

const MAGIC = Buffer.from('CWH1', 'latin1');

/** Brotli quality 5 with a 16 MB window: ~4× faster than quality 9 on a 6 MB heatmap for ~10 % more bytes. */
const BROTLI = {
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 5,
    [constants.BROTLI_PARAM_LGWIN]: 24,
    [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
  },
};

/**
 * The largest body a record may decompress to (and so the largest version the history keeps): 256 MiB,
 * ~50× a 20,000-contract heatmap. A damaged or foreign record that would inflate beyond it is refused
 * before it is allocated, not read into gigabytes.
 */
export const MAX_VERSION_BYTES = 256 * 2 ** 20;

/** `patch`: a structural patch (patch.ts); `values`: a values patch (values-patch.ts). */
export type RecordKind = 'keyframe' | 'patch' | 'values';

const KIND_BYTE: Record<RecordKind, number> = { keyframe: 0, patch: 1, values: 2 };
const KINDS: readonly RecordKind[] = ['keyframe', 'patch', 'values'];

export interface DecodedRecord {
  kind: RecordKind;
  /** Version ids this record needs, keyframe first (empty for a keyframe). */
  chain: string[];
  /** Keyframe: the published bytes; a patch: its JSON. */
  body: Buffer;
}

function encode(kind: RecordKind, chain: string[], raw: Buffer | string): Buffer {
  const header = Buffer.from(JSON.stringify({ chain }), 'utf8');
  const head = Buffer.alloc(9);
  MAGIC.copy(head, 0);
  head.writeUInt8(KIND_BYTE[kind], 4);
  head.writeUInt32BE(header.length, 5);
  const body = brotliCompressSync(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw, BROTLI);
  return Buffer.concat([head, header, body]);
}

/** A keyframe record of the published bytes. */
export function encodeKeyframe(published: Buffer): Buffer {
  return encode('keyframe', [], published);
}

/**
 * A patch record (`patchJson`: the patch as JSON, of `kind` `patch` or `values`); `chain` lists the versions
 * it stands on, keyframe first.
 */
export function encodePatch(chain: string[], patchJson: string, kind: 'patch' | 'values' = 'patch'): Buffer {
  return encode(kind, chain, patchJson);
}

function inflate(body: Buffer, maxBytes: number): Buffer {
  try {
    return brotliDecompressSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new Error(`history record: body over ${maxBytes} bytes`, { cause: err });
    throw new Error(`history record: body does not decompress (${(err as Error).message})`, {
      cause: err,
    });
  }
}

/** A record's kind, chain and body; `maxBytes` bounds the body decompressed ({@link MAX_VERSION_BYTES}). */
export function decodeRecord(rec: Buffer, maxBytes = MAX_VERSION_BYTES): DecodedRecord {
  if (rec.length < 9 || !rec.subarray(0, 4).equals(MAGIC)) throw new Error('history record: bad magic');
  const kindByte = rec.readUInt8(4);
  const kind = KINDS[kindByte];
  if (kind === undefined) throw new Error(`history record: unknown kind ${kindByte}`);
  const len = rec.readUInt32BE(5);
  const header = JSON.parse(rec.subarray(9, 9 + len).toString('utf8')) as { chain?: unknown };
  const chain = Array.isArray(header.chain) ? header.chain.filter((c) => typeof c === 'string') : [];
  return {
    kind,
    chain,
    body: inflate(rec.subarray(9 + len), maxBytes),
  };
}

/**
 * The published bytes of a version from its records, keyframe first and the version itself last. A single
 * keyframe comes back as stored, without a parse; values patches apply to the text, structural patches to
 * the parsed JSON (each form made from the other only where the chain switches kind).
 */
export function reconstruct(records: Buffer[]): Buffer {
  const decoded = records.map((r) => decodeRecord(r));
  const first = decoded[0];
  if (!first || first.kind !== 'keyframe') throw new Error('history: the chain does not start at a keyframe');
  let bytes: Buffer | null = first.body;
  let doc: Json = null;
  for (const d of decoded.slice(1)) {
    if (d.kind === 'keyframe') throw new Error('history: a keyframe inside a patch chain');
    if (d.kind === 'values') {
      bytes ??= Buffer.from(JSON.stringify(doc), 'utf8');
      bytes = applyValues(bytes, JSON.parse(d.body.toString('utf8')) as ValuesPatch);
    } else {
      if (bytes !== null) doc = JSON.parse(bytes.toString('utf8')) as Json;
      doc = applyPatch(doc, JSON.parse(d.body.toString('utf8')) as PatchNode | null);
      bytes = null;
    }
  }
  return bytes ?? Buffer.from(JSON.stringify(doc), 'utf8');
}
