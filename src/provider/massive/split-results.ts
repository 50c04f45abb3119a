/**
 * @module Finds each element of a page's top-level `results` array in the raw response bytes, so the
 * raw snapshot keys store each contract exactly as fetched, zero-copy. Pure.
 *
 * Why by hand: JSON.stringify of every parsed contract was the largest single cost of the write path in
 * the profile (and re-encodes the vendor's numbers); JSON structure bytes are ASCII, so a byte scan that
 * tracks strings and depth finds the elements without a second parse.
 */

import { jsonStringEnd } from '../../lib/json-bytes.js';

const QUOTE = 0x22;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const RESULTS = Buffer.from('"results"');

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** The elements of a page's top-level `results` array, and where the array sits in the bytes. */
export interface SplitPage {
  /** Each element's bytes (sharing memory with the page). */
  slices: Buffer[];
  /** Index of the array's `[`. */
  start: number;
  /** Index after the array's `]`. */
  end: number;
}

/**
 * Slices of `buf` for each element of the top-level `"results": [...]`, or null when the document does
 * not have that shape. The slices share memory with `buf`.
 */
export function splitResults(buf: Buffer): Buffer[] | null {
  return splitPage(buf)?.slices ?? null;
}

/**
 * {@link splitResults} with the array's byte range: null when the document does not have that shape, or
 * when the array's separators are not JSON's (an empty element, a trailing comma), so that a document
 * whose pieces all parse is a document that parses (see page-decode.ts).
 */
export function splitPage(buf: Buffer): SplitPage | null {
  let depth = 0;
  let i = 0;
  // Find the key "results" at depth 1.
  let arrayStart = -1;
  while (i < buf.length) {
    const b = buf[i] as number;
    if (b === QUOTE) {
      const end = jsonStringEnd(buf, i);
      if (end < 0) return null;
      if (
        depth === 1 &&
        end - i === RESULTS.length &&
        buf.compare(RESULTS, 0, RESULTS.length, i, end) === 0
      ) {
        let k = end;
        while (k < buf.length && isSpace(buf[k] as number)) k++;
        if (buf[k] === COLON) {
          k++;
          while (k < buf.length && isSpace(buf[k] as number)) k++;
          if (buf[k] !== LBRACKET) return null;
          arrayStart = k;
          break;
        }
      }
      i = end;
      continue;
    }
    if (b === LBRACE || b === LBRACKET) depth++;
    else if (b === RBRACE || b === RBRACKET) depth--;
    i++;
  }
  if (arrayStart < 0) return null;

  const out: Buffer[] = [];
  let elemStart = -1;
  let afterComma = false;
  let d = 0; // depth inside the array
  for (i = arrayStart + 1; i < buf.length; i++) {
    const b = buf[i] as number;
    if (b === QUOTE) {
      if (elemStart < 0) elemStart = i;
      const end = jsonStringEnd(buf, i);
      if (end < 0) return null;
      i = end - 1;
      continue;
    }
    if (d === 0) {
      if (b === RBRACKET) {
        if (elemStart >= 0) out.push(trimEnd(buf, elemStart, i));
        else if (afterComma) return null;
        return { slices: out, start: arrayStart, end: i + 1 };
      }
      if (b === COMMA) {
        if (elemStart < 0) return null;
        out.push(trimEnd(buf, elemStart, i));
        elemStart = -1;
        afterComma = true;
        continue;
      }
    }
    if (b === LBRACE || b === LBRACKET) {
      if (elemStart < 0) elemStart = i;
      d++;
    } else if (b === RBRACE || b === RBRACKET) {
      d--;
    } else if (elemStart < 0 && !isSpace(b)) {
      elemStart = i;
    }
  }
  return null;
}

function trimEnd(buf: Buffer, start: number, end: number): Buffer {
  let e = end;
  while (e > start && isSpace(buf[e - 1] as number)) e--;
  return buf.subarray(start, e);
}
