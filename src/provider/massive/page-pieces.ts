/**
 * @module Parsing a chain page piece by piece (page-decode.ts): the document with its `results` array
 * replaced by a stand-in, then each result's bytes on their own, so that no string of the whole page is
 * made. Pure, but for the stand-in, drawn at random once per thread.
 */
import { randomUUID } from 'node:crypto';
import type { SplitPage } from './split-results.js';
import type { ChainPage } from './types.js';

/** The skeleton's stand-in for the results array: a string no page can hold (new in every thread). */
const RESULTS_STAND_IN = `chain-worker:${randomUUID()}`;

/** A page parsed piece by piece: the document (its results parsed) and each result's text. */
export interface PagePieces {
  page: ChainPage;
  texts: string[];
}

/**
 * Parses a page piece by piece: the document with its results array replaced by a stand-in (a few hundred
 * bytes), then each result's bytes on their own. Null when the pieces do not make the document (a piece
 * does not parse, or the stand-in is not the document's `results`: a second `results` key comes later);
 * the caller then parses the page whole, which gives the same document whenever this one does, or the
 * syntax error.
 *
 * Why: a page of 250 contracts is ~165 KB, and a string over 128 KB is a large object for V8, allocated on
 * pages of its own that are mapped for it and unmapped after it. Decoding a page to one string cost ~0.6
 * ms of the page thread's ~3.6 ms per page (the same bytes as 250 strings: ~0.05 ms; see the performance
 * log), and each such map and unmap takes the process's memory-map lock, which the main thread waited for.
 */
export function parsePagePieces(buf: Buffer, split: SplitPage): PagePieces | null {
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
  const n = split.slices.length;
  const results = new Array<unknown>(n);
  const texts = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const text = (split.slices[i] as Buffer).toString('utf8');
    try {
      results[i] = JSON.parse(text);
    } catch {
      return null;
    }
    texts[i] = text;
  }
  (page as { results: unknown[] }).results = results;
  return { page, texts };
}
