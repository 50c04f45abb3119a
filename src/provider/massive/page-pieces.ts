/**
 * @module Parsing a chain page piece by piece (page-decode.ts): the document with its `results` array
 * replaced by a stand-in, then each result's bytes on their own as the decode reaches it, so that no string
 * of the whole page is made. Pure, but for the stand-in, drawn at random once per thread.
 */
import { randomUUID } from 'node:crypto';
import type { SplitPage } from './split-results.js';
import type { ChainPage } from './types.js';

/** The skeleton's stand-in for the results array: a string no page can hold (new in every thread). */
const RESULTS_STAND_IN = `chain-worker:${randomUUID()}`;

/**
 * The page's document with its results array parsed as `[]`, from the bytes around it and a stand-in for
 * it (a few hundred bytes); the results are then parsed one by one ({@link parsePiece}). Null when the
 * stand-in is not the document's `results` (a second `results` key comes later) or the rest does not parse:
 * the caller then parses the page whole, which gives the same document whenever the pieces do, or the
 * syntax error.
 *
 * Why: a page of 250 contracts is ~165 KB, and a string over 128 KB is a large object for V8, allocated on
 * pages of its own that are mapped for it and unmapped after it. Decoding a page to one string cost ~0.6
 * ms of the page thread's ~3.6 ms per page (the same bytes as 250 strings: ~0.05 ms; see the performance
 * log), and each such map and unmap takes the process's memory-map lock, which the main thread waited for.
 * One result at a time, each parsed result is garbage before the next is parsed (see page-decode.ts).
 */
export function parseSkeleton(buf: Buffer, split: SplitPage): ChainPage | null {
  let page: ChainPage;
  try {
    page = JSON.parse(
      buf.toString('utf8', 0, split.start) +
        JSON.stringify(RESULTS_STAND_IN) +
        buf.toString('utf8', split.end),
    ) as ChainPage;
  } catch {
    return null;
  }
  if (
    page === null ||
    typeof page !== 'object' ||
    (page as { results?: unknown }).results !== RESULTS_STAND_IN
  )
    return null;
  (page as { results: unknown[] }).results = [];
  return page;
}

/** One result: its value, its text and its bytes as fetched. */
export interface Piece {
  value: unknown;
  text: string;
  slice: Buffer;
}

/** One result's bytes parsed, or null when they are not JSON. */
export function parsePiece(slice: Buffer): Piece | null {
  const text = slice.toString('utf8');
  try {
    return { value: JSON.parse(text) as unknown, text, slice };
  } catch {
    return null;
  }
}
