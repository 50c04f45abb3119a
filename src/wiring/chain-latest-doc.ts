/**
 * @module The bytes of `massive:chain:latest` (MarketSwarm's form, the seed's "latest raw snapshot"):
 * `{version, ts, contracts: {ticker: vendor JSON byte for byte}, symbols: {U: our summary}}`, assembled from
 * one part per symbol by concatenation, never by parsing. Pure.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { deflateRaw, inflateRaw } from 'node:zlib';
import { inSlices, joinLinesInSlices, SLICE } from '../lib/slices.js';
import { joinLines } from '../lib/join-lines.js';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/** One symbol's part as stored: its summary JSON and its `"ticker":vendor,…` fragment (no braces). */
export interface LatestPart {
  /** `{U}`, e.g. `SPX`. */
  underlying: string;
  summary: Buffer | string;
  /** Empty, or a comma-separated run of `"ticker":json` members. */
  contracts: Buffer | null;
}

/** A contract's ticker and its vendor bytes. */
export interface TickerBytes {
  ticker: string;
  bytes: Buffer;
}

/**
 * `"T1":raw1,"T2":raw2` in the given order: the members of `contracts` for one symbol. One allocation
 * (tickers are ASCII option symbols; a 10,000-contract symbol is ~6.5 MB).
 */
export function contractsFragment(contracts: readonly TickerBytes[]): Buffer {
  let size = 0;
  const names: string[] = new Array<string>(contracts.length);
  contracts.forEach((c, i) => {
    const name = `${i > 0 ? ',' : ''}${JSON.stringify(c.ticker)}:`;
    names[i] = name;
    size += Buffer.byteLength(name) + c.bytes.length;
  });
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  contracts.forEach((c, i) => {
    o += out.write(names[i] as string, o);
    o += c.bytes.copy(out, o);
  });
  return out;
}

/** A range of bytes: `buf[start, end)`. */
export interface ByteRange {
  buf: Buffer;
  start: number;
  end: number;
}

/**
 * The contracts of {@link contractsFragmentInSlices}: contract i's ticker, and where its vendor bytes are
 * (written into `into`, which the caller reuses: no object per contract).
 */
export interface FragmentSource {
  count: number;
  ticker(i: number): string;
  bytes(i: number, into: ByteRange): void;
}

/** A ticker JSON.stringify writes as `"` + itself + `"` (every option symbol): its bytes are its characters. */
const PLAIN_TICKER = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** The bytes of `t` as JSON.stringify writes it; `plain`: {@link PLAIN_TICKER} holds for it. */
function tickerJsonSize(t: string, plain: boolean): number {
  return plain ? t.length + 2 : Buffer.byteLength(JSON.stringify(t));
}

/** Writes `t` as JSON.stringify writes it at `o`; returns the offset after it. */
function writeTickerJson(out: Buffer, o: number, t: string, plain: boolean): number {
  if (!plain) return o + out.write(JSON.stringify(t), o);
  out[o++] = 0x22; // "
  o += out.write(t, o, 'latin1');
  out[o++] = 0x22;
  return o;
}

/** What the two passes of {@link contractsFragmentInSlices} share. */
interface FragmentState {
  src: FragmentSource;
  range: ByteRange;
  plain: Uint8Array;
  size: number;
  out: Buffer;
  o: number;
}

/**
 * The first pass over contracts `[start, end)`: each ticker's {@link PLAIN_TICKER} flag and the fragment's
 * size. The slice loops are module functions, not closures made per call: a closure's optimized code does
 * not outlive the call (lib/shape-anchors.ts), and these loops were compiled again every cycle (on V8's
 * helper threads, the loop running unoptimized meanwhile).
 */
function measureSlice(st: FragmentState, start: number, end: number): void {
  const { src, range, plain } = st;
  let size = st.size;
  for (let i = start; i < end; i++) {
    const t = src.ticker(i);
    // `,"ticker":` (no comma before the first).
    if (PLAIN_TICKER.test(t)) plain[i] = 1;
    size += tickerJsonSize(t, plain[i] === 1) + (i > 0 ? 2 : 1);
    src.bytes(i, range);
    size += range.end - range.start;
  }
  st.size = size;
}

/** The second pass over contracts `[start, end)`: their members written at `st.o`. */
function writeSlice(st: FragmentState, start: number, end: number): void {
  const { src, range, plain, out } = st;
  let o = st.o;
  for (let i = start; i < end; i++) {
    const t = src.ticker(i);
    if (i > 0) out[o++] = 0x2c; // ,
    o = writeTickerJson(out, o, t, plain[i] === 1);
    out[o++] = 0x3a; // :
    src.bytes(i, range);
    o += range.buf.copy(out, o, range.start, range.end);
  }
  st.o = o;
}

/**
 * {@link contractsFragment}'s bytes, built a slice of contracts per turn of the event loop and read in place:
 * the vendor bytes are copied from the buffers that hold them (a page's encoded writes) without a Buffer view,
 * a ticker string or an object per contract. Building the fragment of 10,000 contracts at once held the event
 * loop 12–20 ms (20,000: 18–40 ms), with 30,000 short-lived objects. `src` should be an instance of a class
 * (its methods live as long as the class): methods made per call are compiled again every call.
 */
export async function contractsFragmentInSlices(
  src: FragmentSource,
  slice = SLICE,
  /** Where the fragment is written: a buffer of exactly `size` bytes (the store's, reused). */
  alloc: (size: number) => Buffer = (size) => Buffer.allocUnsafe(size),
): Promise<Buffer> {
  const st: FragmentState = {
    src,
    range: { buf: Buffer.alloc(0), start: 0, end: 0 },
    plain: new Uint8Array(src.count),
    size: 0,
    out: Buffer.alloc(0),
    o: 0,
  };
  await inSlices(src.count, (start, end) => measureSlice(st, start, end), slice);
  st.out = alloc(st.size);
  await inSlices(src.count, (start, end) => writeSlice(st, start, end), slice);
  return st.out;
}

/**
 * A stable hash of a ticker set (order-free): the part's geometry. SHA-1 of each sorted ticker and a
 * newline, hashed as one buffer (joinLines: an update per ticker cost ~4 ms for 20,000; the same bytes,
 * the same hash).
 */
export function tickerSetHash(tickers: readonly string[]): string {
  const sorted = [...tickers].sort();
  return createHash('sha1').update(joinLines(sorted, true)).digest('hex');
}

/**
 * A ticker set as the part stores it (`tickers_z`): sorted, newline-separated, raw DEFLATE. A sorted
 * ticker list repeats its prefixes, so 10,000 tickers (~260 KB as a JSON array) pack into ~10–20 KB: the
 * part kept ~26 bytes of Redis per contract for a list only the next delta reads. Compressed on libuv's
 * thread pool, not the event loop.
 */
export async function packTickers(tickers: readonly string[]): Promise<Buffer> {
  return deflate(await joinLinesInSlices([...tickers].sort()));
}

/** The ticker set of {@link packTickers}' bytes. */
export async function unpackTickers(bytes: Buffer): Promise<string[]> {
  const text = (await inflate(bytes)).toString();
  return text === '' ? [] : text.split('\n');
}

/**
 * Tickers that entered and exited between two sets, each sorted, without repeats. Both lists are sorted in
 * practice (the cycle's geometry ids, {@link unpackTickers}' list): checked in one pass each, they are then
 * merged in one walk; otherwise compared as sets and the results sorted (the same lists).
 */
export function tickerDelta(
  prev: readonly string[],
  next: readonly string[],
): { entered: string[]; exited: string[] } {
  if (isSorted(prev) && isSorted(next)) return sortedDelta(prev, next);
  const a = new Set(prev);
  const b = new Set(next);
  return {
    entered: [...b].filter((t) => !a.has(t)).sort(),
    exited: [...a].filter((t) => !b.has(t)).sort(),
  };
}

/**
 * The lists' strings in one list sorted as `Array.prototype.sort()` sorts strings (UTF-16 code units),
 * repeats kept: a merge when every list is sorted (linear; sorting 40,000 tickers again took 20–40 ms of
 * one event-loop turn), otherwise a sort. Pure.
 */
export function mergeSorted(lists: readonly (readonly string[])[]): string[] {
  if (!lists.every(isSorted)) return lists.flat().sort();
  let out: string[] = [];
  for (const list of lists) {
    if (list.length === 0) continue;
    if (out.length === 0) {
      out = [...list];
      continue;
    }
    const merged = new Array<string>(out.length + list.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < out.length && j < list.length)
      merged[k++] = (list[j] as string) < (out[i] as string) ? (list[j++] as string) : (out[i++] as string);
    while (i < out.length) merged[k++] = out[i++] as string;
    while (j < list.length) merged[k++] = list[j++] as string;
    out = merged;
  }
  return out;
}

/** True when `list` is in `Array.prototype.sort`'s order (repeats allowed). */
function isSorted(list: readonly string[]): boolean {
  for (let i = 1; i < list.length; i++) if ((list[i - 1] as string) > (list[i] as string)) return false;
  return true;
}

/** {@link tickerDelta} of two sorted lists: one merge walk, each repeat skipped. */
function sortedDelta(
  prev: readonly string[],
  next: readonly string[],
): { entered: string[]; exited: string[] } {
  const entered: string[] = [];
  const exited: string[] = [];
  let i = 0;
  let j = 0;
  while (i < prev.length || j < next.length) {
    const a = i < prev.length ? (prev[i] as string) : null;
    const b = j < next.length ? (next[j] as string) : null;
    if (b === null || (a !== null && a < b)) exited.push(a as string);
    else if (a === null || b < a) entered.push(b);
    const t = a !== null && (b === null || a <= b) ? a : (b as string);
    while (i < prev.length && prev[i] === t) i++;
    while (j < next.length && next[j] === t) j++;
  }
  return { entered, exited };
}

/** A ticker list as a JSON array: its size, and each ticker's {@link PLAIN_TICKER} flag (tested once). */
function jsonList(list: readonly string[]): { size: number; plain: Uint8Array } {
  const plain = new Uint8Array(list.length);
  let size = 2 + Math.max(0, list.length - 1);
  for (let i = 0; i < list.length; i++) {
    const t = list[i] as string;
    if (PLAIN_TICKER.test(t)) plain[i] = 1;
    size += tickerJsonSize(t, plain[i] === 1);
  }
  return { size, plain };
}

function writeJsonList(list: readonly string[], plain: Uint8Array, out: Buffer, at: number): number {
  let o = at;
  out[o++] = 0x5b; // [
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out[o++] = 0x2c; // ,
    o = writeTickerJson(out, o, list[i] as string, plain[i] === 1);
  }
  out[o++] = 0x5d; // ]
  return o;
}

/**
 * `massive:chain:delta:latest`: `JSON.stringify({version, ts, entered, exited})` byte for byte, written into
 * one buffer. As a string, a delta of 20,000 tickers (~0.5 MB) went to V8's large-object space, was
 * flattened again by the Redis client and copied once more by the socket: three copies on the main heap
 * for one value (the main heap's count of full collections did not move with it: external memory decides
 * those, see ChainLatestStore.fragmentBuffer). Pure.
 *
 * @example
 * deltaDocument({ version: 2, ts: 1764577498, entered: ['O:SPX1'], exited: [] }).toString();
 * // '{"version":2,"ts":1764577498,"entered":["O:SPX1"],"exited":[]}'
 */
export function deltaDocument(d: {
  version: number;
  ts: number;
  entered: readonly string[];
  exited: readonly string[];
}): Buffer {
  const head = `{"version":${JSON.stringify(d.version)},"ts":${JSON.stringify(d.ts)},"entered":`;
  const mid = ',"exited":';
  const entered = jsonList(d.entered);
  const exited = jsonList(d.exited);
  const size = head.length + entered.size + mid.length + exited.size + 1;
  const out = Buffer.allocUnsafe(size);
  let o = out.write(head, 0, 'latin1');
  o = writeJsonList(d.entered, entered.plain, out, o);
  o += out.write(mid, o, 'latin1');
  o = writeJsonList(d.exited, exited.plain, out, o);
  out[o++] = 0x7d; // }
  return o === size ? out : out.subarray(0, o);
}

/**
 * The whole document from the parts (sorted by symbol, so equal inputs give equal bytes). A ticker is
 * listed by one symbol only (tickers carry their root), so the members never repeat.
 *
 * @example
 * assembleLatest({ version: 3, ts: 1764577498, parts: [{ underlying: 'SPX', summary: '{}', contracts: null }] })
 *   .toString(); // '{"version":3,"ts":1764577498,"contracts":{},"symbols":{"SPX":{}}}'
 */
export function assembleLatest(i: { version: number; ts: number; parts: readonly LatestPart[] }): Buffer {
  return Buffer.concat(latestChunks(i));
}

/**
 * {@link assembleLatest}'s bytes as the pieces they are concatenated from (the fragments themselves, not
 * copies): a writer that streams them needs no 13 MB buffer of its own.
 */
export function latestChunks(i: { version: number; ts: number; parts: readonly LatestPart[] }): Buffer[] {
  return latestDocument(i).chunks;
}

/** Where one symbol's summary and contracts fragment sit in the document: byte offset and length of each. */
export interface PartRange {
  summary: [start: number, length: number];
  contracts: [start: number, length: number];
}

/**
 * The document's pieces and, per symbol, where its summary and contracts fragment sit in it (so another
 * writer can read them back with GETRANGE instead of a copy of its own). Pure.
 */
export function latestDocument(i: { version: number; ts: number; parts: readonly LatestPart[] }): {
  chunks: Buffer[];
  ranges: Map<string, PartRange>;
} {
  const parts = [...i.parts].sort((a, b) => (a.underlying < b.underlying ? -1 : 1));
  const chunks: Buffer[] = [];
  let at = 0;
  const push = (b: Buffer): number => {
    chunks.push(b);
    const start = at;
    at += b.length;
    return start;
  };
  const contracts = new Map<string, [number, number]>();
  push(Buffer.from(`{"version":${i.version},"ts":${i.ts},"contracts":{`));
  let first = true;
  for (const p of parts) {
    if (!p.contracts || p.contracts.length === 0) {
      contracts.set(p.underlying, [at, 0]);
      continue;
    }
    if (!first) push(Buffer.from(','));
    contracts.set(p.underlying, [push(p.contracts), p.contracts.length]);
    first = false;
  }
  push(Buffer.from('},"symbols":{'));
  const ranges = new Map<string, PartRange>();
  parts.forEach((p, n) => {
    push(Buffer.from(`${n > 0 ? ',' : ''}${JSON.stringify(p.underlying)}:`));
    const summary = typeof p.summary === 'string' ? Buffer.from(p.summary) : p.summary;
    ranges.set(p.underlying, {
      summary: [push(summary), summary.length],
      contracts: contracts.get(p.underlying) ?? [0, 0],
    });
  });
  push(Buffer.from('}}'));
  return { chunks, ranges };
}

/**
 * One symbol's entry in the document's layout hash: its contracts token and ranges,
 * `token:summaryStart:summaryLength:contractsStart:contractsLength`. Pure.
 */
export function encodeLayoutEntry(token: string, r: PartRange): string {
  return `${token}:${r.summary.join(':')}:${r.contracts.join(':')}`;
}

/** {@link encodeLayoutEntry}'s inverse, or null for a value it did not write. Pure. */
export function decodeLayoutEntry(v: string): { token: string; range: PartRange } | null {
  const f = v.split(':');
  if (f.length !== 5 || f[0] === '') return null;
  const n = f.slice(1).map(Number);
  if (!n.every((x) => Number.isSafeInteger(x) && x >= 0)) return null;
  return {
    token: f[0] as string,
    range: { summary: [n[0] as number, n[1] as number], contracts: [n[2] as number, n[3] as number] },
  };
}
