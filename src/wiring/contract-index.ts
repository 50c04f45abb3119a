/**
 * @module The epoch's contract index, `epoch:{id}:contracts`: the contract ids in the order written,
 * newline-separated and zlib-compressed (RFC 1950). ~2 bytes per contract instead of the ~24 of a JSON
 * array (a 10,000-contract index: ~20 KB against 240 KB). Compression and decompression run on libuv's
 * pool, never on the event loop. An index an earlier version wrote as a JSON array (it starts with `[`; a
 * zlib stream starts with 0x78) is still read.
 */
import { promisify } from 'node:util';
import { deflate as deflateCb, inflate as inflateCb } from 'node:zlib';
import { joinLinesInSlices } from '../lib/slices.js';

const deflate = promisify(deflateCb);
const inflate = promisify(inflateCb);

/** A JSON array's first byte: the encoding before this one. */
const LEGACY_JSON = 0x5b;

/** The stored value of an index holding `ids`, in that order. */
export async function encodeContractIndex(ids: readonly string[]): Promise<Buffer> {
  return deflate(await joinLinesInSlices(ids));
}

/** Thrown for a value that is neither encoding (a key written by something else). */
export class ContractIndexError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ContractIndexError';
  }
}

/** The ids of a stored index, in order. */
export async function decodeContractIndex(raw: Buffer): Promise<string[]> {
  if (raw.length > 0 && raw[0] === LEGACY_JSON) {
    const ids: unknown = JSON.parse(raw.toString('utf8'));
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))
      throw new ContractIndexError('contract index: a JSON value that is not an array of ids');
    return ids;
  }
  let text: string;
  try {
    text = (await inflate(raw)).toString('utf8');
  } catch (err) {
    throw new ContractIndexError('contract index: neither a JSON array nor zlib data', { cause: err });
  }
  return text === '' ? [] : text.split('\n');
}
