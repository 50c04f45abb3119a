/**
 * @module A patch between two versions of a published model read as JSON text, not parsed: when both have
 * the same skeleton (every byte outside the values, keys included), the patch is the values that changed.
 * Pure, on bytes; no JSON.parse of either version, so the history keeps the previous version as its bytes
 * (a 4 MB heatmap is 4 MB, not the ~20 MB of objects a parse makes) and encodes a version in one pass.
 *
 * Values are the tokens that are not keys: strings not followed by `:`, numbers, `true`, `false`, `null`.
 * Everything else (punctuation, keys, whitespace) is the skeleton. Where the two skeletons part (an array
 * that grew, a key that appeared), the innermost object or array around that point is replaced whole: its
 * old text's range and its new text (a heatmap's `flags` lists change length from version to version).
 * Parting outside any container leaves no values patch (`diffValues` returns null and the caller falls back
 * to the structural patch of patch.ts).
 *
 * The changed values are grouped by the key they follow (the last key before them in the text: a table's
 * column, a tile's `debit`), as the structural patch groups columns, since a group's values move alike and
 * compress together. A number whose old and new values are plain decimals (at most 6 decimals, 15 digits)
 * is stored as an integer delta at its group's decimals (`1234.56` → `1235.01` at 2 decimals is `45`);
 * any other value as its new text. The patch as JSON:
 * `{n: values in the old version, g: [changed value indexes, each as the gap after the previous],
 * d: [decimals per group], e: [[entries of group 0], …], s: [[old start, old end, new text], …]}`, groups
 * in the order their first change comes, values inside a replaced container not counted.
 */

import { jsonStringEnd } from '../../lib/json-bytes.js';

/**
 * A changed value: an integer delta (a plain decimal), the new text, or an edit of the old text: its first
 * `p` and last `q` bytes around a new middle (a tile description whose price moved keeps all up to the price).
 */
export type Entry = number | string | [p: number, q: number, middle: string];

/** A values patch (see the module doc). */
export interface ValuesPatch {
  n: number;
  g: number[];
  d: number[];
  e: Entry[][];
  s: [number, number, string][];
}

const QUOTE = 0x22;
const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const MAX_DECIMALS = 6;
/** Digits a plain decimal may have for its scaled integer to stay exact (< 2^53). */
const MAX_DIGITS = 15;
const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

function isValueStart(c: number): boolean {
  // A string, a number, true, false, null.
  return c === QUOTE || c === MINUS || (c >= ZERO && c <= NINE) || c === 0x74 || c === 0x66 || c === 0x6e;
}

/** The index after a string token starting at `i` (its opening quote), or -1 when it never closes. */
const stringEnd = jsonStringEnd;

/** The index after a number or literal starting at `i`: up to the next punctuation or whitespace. */
function atomEnd(b: Uint8Array, i: number): number {
  let k = i;
  for (; k < b.length; k++) {
    const c = b[k] as number;
    if (
      c === 0x2c ||
      c === 0x7d ||
      c === 0x5d ||
      c === COLON ||
      c === 0x20 ||
      c === 0x0a ||
      c === 0x0d ||
      c === 0x09
    )
      break;
  }
  return k;
}

function tokenEnd(b: Uint8Array, i: number): number {
  return b[i] === QUOTE ? stringEnd(b, i) : atomEnd(b, i);
}

/** 32-bit FNV-1a of a key's bytes: groups changes by key name (a collision only merges two groups). */
function keyHash(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let k = s; k < e; k++) h = Math.imul(h ^ (b[k] as number), 0x01000193);
  return h >>> 0;
}

/** Result slots of {@link plainDecimal} (no allocation per value). */
let pdScaled = 0;
let pdDecimals = 0;

/**
 * Reads `b[s..e)` as a plain decimal (`-?digits(.digits)?`, at most 6 decimals and 15 digits) into
 * `pdScaled` (the digits as an integer, signed) and `pdDecimals`; false for anything else. With
 * `canonical`, also false unless it is the shortest form JSON.stringify prints: no leading zero, no
 * trailing zero after the point, no `-0`.
 */
function plainDecimal(b: Uint8Array, s: number, e: number, canonical: boolean): boolean {
  let k = s;
  const neg = b[k] === MINUS;
  if (neg) k++;
  const intStart = k;
  let v = 0;
  let digits = 0;
  while (k < e && (b[k] as number) >= ZERO && (b[k] as number) <= NINE) {
    v = v * 10 + ((b[k] as number) - ZERO);
    k++;
    digits++;
  }
  if (digits === 0) return false;
  if (canonical && digits > 1 && b[intStart] === ZERO) return false;
  let dec = 0;
  if (k < e && b[k] === DOT) {
    k++;
    while (k < e && (b[k] as number) >= ZERO && (b[k] as number) <= NINE) {
      v = v * 10 + ((b[k] as number) - ZERO);
      k++;
      dec++;
    }
    if (dec === 0) return false;
    if (canonical && b[k - 1] === ZERO) return false;
  }
  if (k !== e || dec > MAX_DECIMALS || digits + dec > MAX_DIGITS) return false;
  if (canonical && neg && v === 0) return false;
  pdScaled = neg ? -v : v;
  pdDecimals = dec;
  return true;
}

/** The shortest decimal text of `scaled / 10^decimals` (what JSON.stringify prints for it). */
export function formatScaled(scaled: number, decimals: number): string {
  if (scaled === 0) return '0';
  const neg = scaled < 0;
  let digits = String(neg ? -scaled : scaled);
  if (decimals === 0) return neg ? `-${digits}` : digits;
  if (digits.length <= decimals) digits = '0'.repeat(decimals - digits.length + 1) + digits;
  const int = digits.slice(0, digits.length - decimals);
  let frac = digits.slice(digits.length - decimals);
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === ZERO) end--;
  frac = frac.slice(0, end);
  const text = frac.length > 0 ? `${int}.${frac}` : int;
  return neg ? `-${text}` : text;
}

/** Shared bytes at either end below which a changed string is stored whole. */
const EDIT_MIN_SHARED = 8;

/** A UTF-8 continuation byte (an edit never cuts a character). */
function continuation(c: number | undefined): boolean {
  return c !== undefined && (c & 0xc0) === 0x80;
}

/** The edit that turns the old string token into the new one, or null when they share too little. */
function stringEdit(a: Buffer, as: number, ae: number, b: Buffer, bs: number, be: number): Entry | null {
  if (a[as] !== QUOTE || b[bs] !== QUOTE) return null;
  const max = Math.min(ae - as, be - bs);
  let p = 0;
  while (p < max && a[as + p] === b[bs + p]) p++;
  while (p > 0 && continuation(b[bs + p])) p--;
  let q = 0;
  while (q < max - p && a[ae - 1 - q] === b[be - 1 - q]) q++;
  while (q > 0 && continuation(b[be - q])) q--;
  if (p + q < EDIT_MIN_SHARED) return null;
  return [p, q, b.toString('utf8', bs + p, be - q)];
}

/** One changed value: its index, its key's hash, and where it is in the old and new text. */
interface Change {
  index: number;
  hash: number;
  os: number;
  oe: number;
  ns: number;
  ne: number;
}

/** An open container of the walk: where it opened in both texts, and the walk's state there. */
interface Open {
  p: number;
  n: number;
  index: number;
  keyStart: number;
  keyEnd: number;
  /**
   * Where it ends in both texts ({@link containerEnd}), found at its first parting and kept: a container
   * that parts at many members (every other key of a big object removed) would be scanned once per parting.
   * -2 until then.
   */
  pe: number;
  ne: number;
}

/** The ends of `open` in `prev` and `next` (-1 when it never closes), scanned once per container. */
function openEnds(open: Open, prev: Uint8Array, next: Uint8Array): Open {
  if (open.pe === -2) {
    open.pe = containerEnd(prev, open.p);
    open.ne = containerEnd(next, open.n);
  }
  return open;
}

function sameBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): boolean {
  if (ae - as !== be - bs) return false;
  for (let k = 0; k < ae - as; k++) if (a[as + k] !== b[bs + k]) return false;
  return true;
}

/** The index after the container (object or array) opening at `i`, or -1 when it never closes. */
function containerEnd(b: Uint8Array, i: number): number {
  let depth = 0;
  for (let k = i; k < b.length; k++) {
    const c = b[k] as number;
    if (c === QUOTE) {
      k = stringEnd(b, k) - 1;
      if (k < 0) return -1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return k + 1;
    }
  }
  return -1;
}

/** Object members {@link memberWithKey} looks past for a key, before the container is replaced whole. */
const LOOKAHEAD = 64;

/** The index after the object member whose key starts at `k`, or -1. */
function memberEnd(b: Uint8Array, k: number): number {
  const ke = stringEnd(b, k);
  if (ke < 0 || b[ke] !== COLON) return -1;
  const v = ke + 1;
  const c = b[v];
  return c === 0x7b || c === 0x5b
    ? containerEnd(b, v)
    : c !== undefined && isValueStart(c)
      ? tokenEnd(b, v)
      : -1;
}

/**
 * Where, among the members of `b` from the one whose key starts at `k`, a member has the key `key[ks..ke)`:
 * the start of that member's key, or -1 when none of the next {@link LOOKAHEAD} has it.
 */
function memberWithKey(b: Uint8Array, k: number, key: Uint8Array, ks: number, ke: number): number {
  let q = k;
  for (let m = 0; m < LOOKAHEAD; m++) {
    if (b[q] !== QUOTE) return -1;
    const qe = stringEnd(b, q);
    if (qe < 0) return -1;
    if (sameBytes(b, q, qe, key, ks, ke)) return q;
    const e = memberEnd(b, q);
    if (e < 0 || b[e] !== 0x2c) return -1;
    q = e + 1;
  }
  return -1;
}

/** Group ids by first appearance of each key hash, in change order (what {@link applyValues} rebuilds). */
function groupIds(changes: readonly Change[]): { ids: Int32Array; count: number } {
  const byHash = new Map<number, number>();
  const ids = new Int32Array(changes.length);
  // Loops, not callbacks made per call (their optimized code would not outlive the call: lib/shape-anchors.ts).
  for (let k = 0; k < changes.length; k++) {
    const c = changes[k] as Change;
    let g = byHash.get(c.hash);
    if (g === undefined) {
      g = byHash.size;
      byHash.set(c.hash, g);
    }
    ids[k] = g;
  }
  return { ids, count: byHash.size };
}

/**
 * The values patch that turns `prev` into `next`, or null when their skeletons differ outside any
 * container (or either is not well-formed enough to walk: a string or container that never closes).
 */
export function diffValues(prev: Buffer, next: Buffer): ValuesPatch | null {
  const changes: Change[] = [];
  const spans: [number, number, string][] = [];
  const stack: Open[] = [];
  let i = 0;
  let j = 0;
  let index = 0;
  let keyStart = -1;
  let keyEnd = -1;
  let hashKeyStart = -2;
  let hash = 0;
  const pl = prev.length;
  const nl = next.length;
  /** The skeletons part at (i, j): the innermost open container is replaced whole; false at the top. */
  const replaceContainer = (): boolean => {
    const open = stack.pop();
    if (!open) return false;
    const { pe, ne } = openEnds(open, prev, next);
    if (pe < 0 || ne < 0) return false;
    while (changes.length > 0 && (changes[changes.length - 1] as Change).index >= open.index) changes.pop();
    while (spans.length > 0 && (spans[spans.length - 1] as [number, number, string])[0] >= open.p)
      spans.pop();
    spans.push([open.p, pe, next.toString('utf8', open.n, ne)]);
    index = open.index;
    keyStart = open.keyStart;
    keyEnd = open.keyEnd;
    hashKeyStart = -2;
    i = pe;
    j = ne;
    return true;
  };
  /**
   * The skeletons part at (i, j) inside the innermost open container: members or elements added or removed
   * at its end, or object members added or removed before a key both have (up to {@link LOOKAHEAD} ahead),
   * become a span of their own (an insertion or a removal); false when neither explains the parting.
   */
  const realign = (): boolean => {
    const open = stack[stack.length - 1];
    if (!open) return false;
    const { pe, ne } = openEnds(open, prev, next);
    const pClose = pe - 1;
    const nClose = ne - 1;
    if (pClose < 0 || nClose < 0) return false;
    if (i === pClose) {
      spans.push([i, i, next.toString('utf8', j, nClose)]);
      j = nClose;
      return true;
    }
    if (j === nClose) {
      spans.push([i, pClose, '']);
      i = pClose;
      return true;
    }
    if (prev[open.p] !== 0x7b || prev[i] !== QUOTE || next[j] !== QUOTE) return false;
    const nKeyEnd = stringEnd(next, j);
    const pKeyEnd = stringEnd(prev, i);
    if (nKeyEnd < 0 || pKeyEnd < 0) return false;
    // Members of prev removed before next's key…
    const p = memberWithKey(prev, i, next, j, nKeyEnd);
    if (p > i) {
      spans.push([i, p, '']);
      i = p;
      return true;
    }
    // …or members of next added before prev's key.
    const n = memberWithKey(next, j, prev, i, pKeyEnd);
    if (n > j) {
      spans.push([i, i, next.toString('utf8', j, n)]);
      j = n;
      return true;
    }
    return false;
  };
  for (;;) {
    // The skeleton between two tokens: byte for byte.
    let parted = false;
    while (i < pl && j < nl) {
      const c = prev[i] as number;
      if (isValueStart(c)) break;
      if (c !== next[j]) {
        parted = true;
        break;
      }
      if (c === 0x7b || c === 0x5b) stack.push({ p: i, n: j, index, keyStart, keyEnd, pe: -2, ne: -2 });
      else if (c === 0x7d || c === 0x5d) stack.pop();
      i++;
      j++;
    }
    if (!parted && (i >= pl || j >= nl)) {
      if (i >= pl && j >= nl) break;
      parted = true;
    }
    let pe = -1;
    let ne = -1;
    let pKey = false;
    if (!parted) {
      pe = tokenEnd(prev, i);
      ne = tokenEnd(next, j);
      if (pe < 0 || ne < 0) return null;
      pKey = prev[i] === QUOTE && prev[pe] === COLON;
      const nKey = next[j] === QUOTE && next[ne] === COLON;
      if (!isValueStart(next[j] as number) || pKey !== nKey || (pKey && !sameBytes(prev, i, pe, next, j, ne)))
        parted = true;
    }
    if (parted) {
      const i0 = i;
      const j0 = j;
      if (!realign() && !replaceContainer()) return null;
      // Each parting must move the walk on. In malformed text the walk and containerEnd can disagree (a
      // bracket inside a number token, a `]` closing a `{`): a parting that stays put or goes back would
      // repeat forever, so there is no values patch.
      if (i < i0 || j < j0 || (i === i0 && j === j0)) return null;
      continue;
    }
    if (pKey) {
      keyStart = i;
      keyEnd = pe;
    } else {
      if (!sameBytes(prev, i, pe, next, j, ne)) {
        if (hashKeyStart !== keyStart) {
          hash = keyStart < 0 ? 0 : keyHash(prev, keyStart, keyEnd);
          hashKeyStart = keyStart;
        }
        changes.push({ index, hash, os: i, oe: pe, ns: j, ne });
      }
      index++;
    }
    i = pe;
    j = ne;
  }
  const { ids, count } = groupIds(changes);
  // Each group's decimals: the most any of its plain-decimal pairs has.
  const decimals = new Array<number>(count).fill(0);
  const numeric = new Uint8Array(changes.length);
  for (let k = 0; k < changes.length; k++) {
    const c = changes[k] as Change;
    if (!plainDecimal(next, c.ns, c.ne, true)) continue;
    const nd = pdDecimals;
    if (!plainDecimal(prev, c.os, c.oe, false)) continue;
    numeric[k] = 1;
    const g = ids[k] as number;
    decimals[g] = Math.max(decimals[g] as number, nd, pdDecimals);
  }
  const entries: Entry[][] = Array.from({ length: count }, () => []);
  const gaps: number[] = [];
  let last = -1;
  for (let k = 0; k < changes.length; k++) {
    const c = changes[k] as Change;
    gaps.push(c.index - last - 1);
    last = c.index;
    const g = ids[k] as number;
    const d = decimals[g] as number;
    const out = entries[g] as Entry[];
    if (numeric[k] === 1) {
      plainDecimal(next, c.ns, c.ne, true);
      const n = pdScaled * (POW10[d - pdDecimals] as number);
      plainDecimal(prev, c.os, c.oe, false);
      const o = pdScaled * (POW10[d - pdDecimals] as number);
      const delta = n - o;
      if (Number.isSafeInteger(n) && Number.isSafeInteger(o) && Number.isSafeInteger(delta)) {
        out.push(delta);
        continue;
      }
    }
    out.push(stringEdit(prev, c.os, c.oe, next, c.ns, c.ne) ?? next.toString('utf8', c.ns, c.ne));
  }
  return { n: index, g: gaps, d: decimals, e: entries, s: spans };
}

function malformed(why: string): Error {
  return new Error(`history values patch: ${why}`);
}

function isIndex(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

/** One changed value as {@link diffValues} writes it: a safe integer delta, a text, or an edit. */
function isEntry(x: unknown): x is Entry {
  return (
    typeof x === 'string' ||
    Number.isSafeInteger(x) ||
    (Array.isArray(x) && x.length === 3 && isIndex(x[0]) && isIndex(x[1]) && typeof x[2] === 'string')
  );
}

function isSpan(x: unknown): x is [number, number, string] {
  return Array.isArray(x) && x.length === 3 && isIndex(x[0]) && isIndex(x[1]) && typeof x[2] === 'string';
}

/**
 * Throws unless `patch` has the shape {@link diffValues} writes. A record read back from Redis may be
 * corrupt, and a value of the wrong type does not always throw in {@link applyValues}: it writes wrong bytes
 * (decimals `[1,2]` print `NaN`, an entry `null` keeps the old value) or a huge one (decimals `1e8` pad a
 * number with 100 MB of zeros).
 */
function checkShape(patch: unknown): asserts patch is ValuesPatch {
  const p = patch as Partial<Record<keyof ValuesPatch, unknown>> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    !isIndex(p.n) ||
    !Array.isArray(p.g) ||
    !p.g.every(isIndex) ||
    !Array.isArray(p.d) ||
    !p.d.every((d) => Number.isInteger(d) && (d as number) >= 0 && (d as number) <= MAX_DECIMALS) ||
    !Array.isArray(p.e) ||
    !p.e.every((group) => Array.isArray(group) && group.every(isEntry)) ||
    !Array.isArray(p.s) ||
    !p.s.every(isSpan)
  )
    throw malformed('not the shape of a values patch');
}

/** `prev` with a values patch applied: the next version's bytes. Throws when the patch does not fit `prev`. */
export function applyValues(prev: Buffer, patch: ValuesPatch): Buffer {
  checkShape(patch);
  const { g: gaps, d: decimals, e: entries, s: spans } = patch;
  // An upper bound of the output: the old text, every literal and span, every delta's number at its longest.
  let size = prev.length;
  for (const group of entries)
    for (const x of group)
      size +=
        typeof x === 'string'
          ? Buffer.byteLength(x, 'utf8')
          : Array.isArray(x)
            ? Buffer.byteLength(x[2], 'utf8')
            : 24;
  for (const sp of spans) size += Buffer.byteLength(sp[2], 'utf8');
  const out = Buffer.allocUnsafe(size);
  const groups = new Map<number, number>();
  const taken = new Array<number>(entries.length).fill(0);
  let o = 0;
  let copied = 0;
  let i = 0;
  let index = 0;
  let nextChange = gaps.length > 0 ? (gaps[0] as number) : -1;
  let g = 0;
  let span = 0;
  let spanStart = spans.length > 0 ? (spans[0] as [number, number, string])[0] : -1;
  let keyStart = -1;
  let keyEnd = -1;
  let hashKeyStart = -2;
  let group = -1;
  const pl = prev.length;
  while (i < pl || i === spanStart) {
    if (i === spanStart) {
      const [, end, text] = spans[span] as [number, number, string];
      if (!(end >= i && end <= pl)) throw malformed('a replaced span outside the base version');
      o += prev.copy(out, o, copied, i);
      o += out.write(text, o, 'utf8');
      i = end;
      copied = end;
      span++;
      spanStart = span < spans.length ? (spans[span] as [number, number, string])[0] : -1;
      continue;
    }
    const c = prev[i] as number;
    if (!isValueStart(c)) {
      i++;
      continue;
    }
    const e = tokenEnd(prev, i);
    if (e < 0) throw malformed('the base version has a string that never closes');
    if (c === QUOTE && prev[e] === COLON) {
      keyStart = i;
      keyEnd = e;
    } else {
      if (index === nextChange) {
        if (hashKeyStart !== keyStart) {
          const h = keyStart < 0 ? 0 : keyHash(prev, keyStart, keyEnd);
          let gi = groups.get(h);
          if (gi === undefined) {
            gi = groups.size;
            groups.set(h, gi);
          }
          group = gi;
          hashKeyStart = keyStart;
        }
        const list = entries[group];
        const k = taken[group] ?? 0;
        if (!list || k >= list.length) throw malformed('fewer entries than changes');
        const entry = list[k] as Entry;
        taken[group] = k + 1;
        o += prev.copy(out, o, copied, i);
        if (typeof entry === 'string') o += out.write(entry, o, 'utf8');
        else if (Array.isArray(entry)) {
          const [p, q, middle] = entry;
          if (!(p >= 0 && q >= 0 && p + q <= e - i)) throw malformed('an edit longer than its value');
          o += prev.copy(out, o, i, i + p);
          o += out.write(middle, o, 'utf8');
          o += prev.copy(out, o, e - q, e);
        } else {
          const d = decimals[group] ?? 0;
          if (!plainDecimal(prev, i, e, false) || pdDecimals > d)
            throw malformed('a delta on a value that is not a plain decimal');
          o += out.write(formatScaled(pdScaled * (POW10[d - pdDecimals] as number) + entry, d), o, 'latin1');
        }
        copied = e;
        g++;
        nextChange = g < gaps.length ? index + 1 + (gaps[g] as number) : -1;
      }
      index++;
    }
    i = e;
  }
  if (index !== patch.n)
    throw malformed(`the base version has ${index} values, the patch was made on ${patch.n}`);
  if (g !== gaps.length || span !== spans.length) throw malformed('changes past the end of the base version');
  // Entries no change took: the gaps and entries of a corrupt record disagree.
  if (entries.some((list, k) => list.length !== taken[k])) throw malformed('more entries than changes');
  o += prev.copy(out, o, copied, pl);
  return out.subarray(0, o);
}
