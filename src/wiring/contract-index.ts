/**
 * @module The epoch's contract index, `epoch:{id}:contracts`: the contract ids in the order written,
 * newline-separated and Brotli-compressed (RFC 7932, quality 5, text mode): ~0.7 bytes per contract, where
 * zlib (RFC 1950, what earlier versions wrote) took ~2.6 and a JSON array ~24. Quality 5 costs what
 * zlib's default level did (2–3 ms for a 10,000-contract index, 220 KB of text); 11 took ~0.6 instead of ~0.7
 * bytes per contract for ~210 ms. Compression and decompression run on libuv's pool, never on the event
 * loop. Indexes the earlier versions wrote, zlib streams and JSON arrays, are still read.
 */
import { promisify } from 'node:util';
import {
  brotliCompress as brotliCompressCb,
  brotliDecompress as brotliDecompressCb,
  constants,
  inflate as inflateCb,
} from 'node:zlib';
import { joinLinesInSlices } from '../lib/slices.js';

const brotliCompress = promisify(brotliCompressCb);
const brotliDecompress = promisify(brotliDecompressCb);
const inflate = promisify(inflateCb);

/** A JSON array's first byte: the first encoding. */
const LEGACY_JSON = 0x5b;

/** The Brotli quality of a new index (see the module's note). */
export const INDEX_QUALITY = 5;

/** The stored value of an index holding `ids`, in that order. */
export async function encodeContractIndex(ids: readonly string[]): Promise<Buffer> {
  const text = await joinLinesInSlices(ids);
  return brotliCompress(text, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: INDEX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: text.length,
    },
  });
}

/** Thrown for a value that is no encoding of an index (a key written by something else). */
export class ContractIndexError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ContractIndexError';
  }
}

/** Whether `raw` starts with a zlib header (deflate, a valid check value): an index of the zlib versions. */
function hasZlibHeader(raw: Uint8Array): boolean {
  const cmf = raw[0];
  const flg = raw[1];
  return cmf !== undefined && flg !== undefined && (cmf & 0x0f) === 8 && (cmf * 256 + flg) % 31 === 0;
}

const lines = (text: string): string[] => (text === '' ? [] : text.split('\n'));

/**
 * The ids of a stored index, in order. A Brotli stream has no signature, so the earlier encodings are
 * tried first where their first bytes say so (JSON, then a zlib header, whose Adler-32 check refuses
 * anything else), and Brotli otherwise.
 */
export async function decodeContractIndex(raw: Buffer): Promise<string[]> {
  if (raw.length > 0 && raw[0] === LEGACY_JSON) {
    let ids: unknown;
    try {
      ids = JSON.parse(raw.toString('utf8'));
    } catch {
      ids = undefined;
    }
    if (ids !== undefined) {
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))
        throw new ContractIndexError('contract index: a JSON value that is not an array of ids');
      return ids;
    }
  }
  if (hasZlibHeader(raw)) {
    try {
      return lines((await inflate(raw)).toString('utf8'));
    } catch {
      // Not zlib after all: Brotli below.
    }
  }
  try {
    return lines((await brotliDecompress(raw)).toString('utf8'));
  } catch (err) {
    throw new ContractIndexError('contract index: neither Brotli, zlib nor a JSON array', { cause: err });
  }
}
