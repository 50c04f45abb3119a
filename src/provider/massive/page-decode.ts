/**
 * @module One chain page's bytes → the lifted fields of each result and the byte range of each result in
 * the page, in a compact form that crosses a thread boundary cheaply (typed arrays and short string
 * arrays, no vendor objects). Pure: it runs on a page thread (see page-pool.ts) or, without one, inline.
 *
 * The main thread turns a {@link DecodedPage} back into {@link ParsedContract}s with `liftContracts`
 * (page-lift.ts: a few hundred object allocations per page), slicing each contract's raw JSON out of the
 * page bytes or its encoded writes without a copy. The lifted fields keep their values as sent: a number
 * travels as a number, anything else (null, a string) in a short side list.
 */
import { isAscii } from 'node:buffer';
import { documentProblem } from './api-document.js';
import { parseContract, spotFromResult } from './parse-contract.js';
import { splitPage } from './split-results.js';
import { parsePiece, parseSkeleton } from './page-pieces.js';
import { FIELD_NAMES, NF, SKIP_REASONS, SPOT, STRIDE, STRIKE, TS } from './page-fields.js';
import type { ChainPage, ParsedContract, RawContract, VendorFields } from './types.js';
import {
  AsciiPageWritesEncoder,
  PageWritesEncoder,
  type PageWrites,
  type WriteEncoding,
} from '../../wiring/page-writes.js';

export interface DecodeOptions {
  /** Return each accepted result's vendor object (`ParsedContract.raw`); otherwise only when the bytes could not be split. */
  keepRaw: boolean;
  /** Return each accepted result's `underlying_asset` (the caller has not seen one yet). */
  wantUnderlying: boolean;
  /** Also pre-encode the page's bulk writes (wiring/page-writes.ts; done by the page pool). */
  writes?: WriteEncoding;
}

export interface DecodedPage {
  nextUrl: string | undefined;
  /** Results on the page (accepted or skipped). */
  count: number;
  /** Per result: 0 accepted, else 1 + the index of its skip reason. */
  status: Uint8Array;
  /** Per accepted result (empty string for a skipped one). */
  tickers: string[];
  /** The page's distinct roots and expirations (few: one expiration per stream), '' first. */
  names: string[];
  /** Per result, the index in `names` of its root and of its expiration (0 for a skipped one). */
  rootIds: Uint32Array;
  expirationIds: Uint32Array;
  /** Per result: 67 ('C') or 80 ('P'). */
  types: Uint8Array;
  /**
   * Per result, {@link STRIDE} numbers: the fields of {@link FIELD_NAMES}, the strike, the spot the result
   * carries. NaN means "not a number as sent": undefined (null for `ts` and the spot), unless listed in `odd`.
   */
  nums: Float64Array;
  /** Field values that were sent but are not numbers: [result, field index, value]. */
  odd: [number, number, unknown][];
  /** Per result, [start, end) of its bytes in the page; all zero when the page could not be split exactly. */
  ranges: Uint32Array;
  /** True when `ranges` holds one range per result. */
  exact: boolean;
  /** Per result, the vendor object (when asked for, or when the page could not be split). */
  raw?: (RawContract | undefined)[];
  /** Per result, its `underlying_asset` (when asked for). */
  underlying?: (RawContract['underlying_asset'] | undefined)[];
  /** The page's pre-encoded bulk writes (when asked for); each contract's raw JSON is then read from them. */
  writes?: PageWrites;
}

/** The page's bytes are not a JSON document, or not a document of the API (api-document.ts). */
export class PageSyntaxError extends Error {
  override readonly name = 'PageSyntaxError';
}

/** Decodes one page. Throws {@link PageSyntaxError} when the bytes are not JSON or not a page. */
export function decodePage(bytes: Uint8Array, opts: DecodeOptions): DecodedPage {
  return decodeWith(bytes, opts, undefined);
}

/**
 * {@link decodePage}, then with `opts.writes` the page's encoded writes as `attachPageWrites`
 * (page-lift.ts) makes them (the same bytes), each contract encoded as soon as it is decoded: what a page
 * thread does. An ASCII page's writes are built from its text ({@link AsciiPageWritesEncoder}), others from
 * its bytes.
 *
 * Why one result at a time: a page thread's young generation is small (4 MB, see page-pool.ts; 2 MB when
 * this was measured); with every parsed result of the page alive until the last was parsed, each page's
 * ~250 vendor objects survived scavenges, were copied and promoted, and the thread's old generation filled
 * with them between full collections: 4.5–5.0 ms per page against 2.9–3.0 with a 24 MB young generation
 * (the performance log, 3 Dec 19:43).
 */
export function decodePageWithWrites(bytes: Buffer, opts: DecodeOptions): DecodedPage {
  const enc = opts.writes;
  if (!enc) return decodeWith(bytes, opts, undefined);
  if (isAscii(bytes)) {
    const ascii = new AsciiSink(enc);
    const page = decodeWith(bytes, opts, ascii);
    const writes = ascii.finish();
    // Null: the key prefix or the underlying is not ASCII; encoded again from the bytes.
    if (writes) {
      page.writes = writes;
      return page;
    }
  }
  const sink = new BytesSink(enc);
  const page = decodeWith(bytes, opts, sink);
  page.writes = sink.finish();
  return page;
}

/**
 * Receives each accepted contract of a page as it is decoded: its bytes as fetched (`slice`) and, when the
 * page is ASCII, their text; both undefined when the page could not be split exactly (the vendor object is
 * then written out again). `start` begins a page (again, when its pieces did not make the document).
 */
interface ContractSink {
  start(count: number): void;
  add(i: number, c: ParsedContract, slice: Buffer | undefined, text: string | undefined): void;
}

class AsciiSink implements ContractSink {
  private w: AsciiPageWritesEncoder | undefined;
  constructor(private readonly enc: WriteEncoding) {}
  start(count: number): void {
    this.w = new AsciiPageWritesEncoder(count, this.enc);
  }
  add(i: number, c: ParsedContract, _slice: Buffer | undefined, text: string | undefined): void {
    this.w?.add(i, c, text ?? JSON.stringify(c.raw ?? {}));
  }
  finish(): PageWrites | null {
    return this.w?.finish() ?? null;
  }
}

class BytesSink implements ContractSink {
  private w: PageWritesEncoder;
  constructor(private readonly enc: WriteEncoding) {
    this.w = new PageWritesEncoder(0, enc);
  }
  start(count: number): void {
    this.w = new PageWritesEncoder(count, this.enc);
  }
  add(i: number, c: ParsedContract, slice: Buffer | undefined): void {
    this.w.add(i, c, slice ?? Buffer.from(JSON.stringify(c.raw ?? {})));
  }
  finish(): PageWrites {
    return this.w.finish();
  }
}

/** The page's results, one at a time: each one's value, and its text and bytes when the page split exactly. */
interface Results {
  count: number;
  exact: boolean;
  /** Result `i`'s value; undefined when its bytes do not parse (the pieces do not make the document). */
  at(i: number): { value: unknown; text: string | undefined; slice: Buffer | undefined } | undefined;
}

function decodeWith(bytes: Uint8Array, opts: DecodeOptions, sink: ContractSink | undefined): DecodedPage {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const split = splitPage(buf);
  const skeleton = split ? parseSkeleton(buf, split) : null;
  if (split && skeleton) {
    const problem = documentProblem(skeleton);
    if (problem !== undefined) throw new PageSyntaxError(problem);
    const { slices } = split;
    const results: Results = {
      count: slices.length,
      // As for a page parsed whole: an empty list has no ranges to be exact about.
      exact: slices.length > 0,
      at: (i) => parsePiece(slices[i] as Buffer) ?? undefined,
    };
    const out = decodeResults(skeleton, results, buf, opts, sink);
    if (out) return out;
  }
  // The page whole: the pieces do not make the document, or the bytes could not be split.
  let page: ChainPage;
  let text: string;
  try {
    text = buf.toString('utf8');
    page = JSON.parse(text) as ChainPage;
  } catch (err) {
    throw new PageSyntaxError((err as Error).message);
  }
  const problem = documentProblem(page);
  if (problem !== undefined) throw new PageSyntaxError(problem);
  // A list (documentProblem), or none.
  const list: readonly unknown[] = page.results ?? [];
  const slices = list.length > 0 && split ? split.slices : null;
  const exact = slices !== null && slices.length === list.length;
  // Offsets in the bytes are offsets in the text only when every character is one byte.
  const textual = exact && sink !== undefined && isAscii(buf);
  const results: Results = {
    count: list.length,
    exact,
    at(i) {
      const slice = exact ? (slices[i] as Buffer) : undefined;
      const at = slice ? slice.byteOffset - buf.byteOffset : 0;
      return {
        value: list[i],
        slice,
        text: slice && textual ? text.slice(at, at + slice.length) : undefined,
      };
    },
  };
  return decodeResults(page, results, buf, opts, sink) as DecodedPage;
}

/**
 * The decoded page from its document and its results, each result lifted (and handed to `sink`) before
 * the next is read. Undefined when a result does not parse (only a piece can fail).
 */
function decodeResults(
  page: ChainPage,
  results: Results,
  buf: Buffer,
  opts: DecodeOptions,
  sink: ContractSink | undefined,
): DecodedPage | undefined {
  const { count, exact } = results;
  const out: DecodedPage = {
    nextUrl: typeof page.next_url === 'string' ? page.next_url : undefined,
    count,
    status: new Uint8Array(count),
    tickers: new Array<string>(count).fill(''),
    names: [''],
    rootIds: new Uint32Array(count),
    expirationIds: new Uint32Array(count),
    types: new Uint8Array(count),
    nums: new Float64Array(count * STRIDE).fill(NaN),
    odd: [],
    ranges: new Uint32Array(count * 2),
    exact,
  };
  // Roots and expirations cross to the main thread once per page, not once per result.
  const ids = new Map<string, number>();
  const nameId = (name: string): number => {
    let id = ids.get(name);
    if (id === undefined) {
      id = out.names.push(name) - 1;
      ids.set(name, id);
    }
    return id;
  };
  sink?.start(count);
  const raw = opts.keepRaw || !exact ? new Array<RawContract | undefined>(count) : undefined;
  const underlying = opts.wantUnderlying
    ? new Array<RawContract['underlying_asset'] | undefined>(count)
    : undefined;
  for (let i = 0; i < count; i++) {
    const r = results.at(i);
    if (!r) return undefined;
    const parsed = parseContract(r.value);
    if (!parsed.ok) {
      out.status[i] = 1 + SKIP_REASONS.indexOf(parsed.reason);
      continue;
    }
    const c = parsed.contract;
    out.tickers[i] = c.ticker;
    out.rootIds[i] = nameId(c.root);
    out.expirationIds[i] = nameId(c.expiration);
    out.types[i] = c.type === 'C' ? 67 : 80;
    const base = i * STRIDE;
    for (let f = 0; f < NF; f++) {
      const v = c.fields[FIELD_NAMES[f] as keyof VendorFields];
      if (typeof v === 'number') out.nums[base + f] = v;
      else if (v !== undefined && f !== TS) out.odd.push([i, f, v]);
    }
    out.nums[base + STRIKE] = c.strike;
    out.nums[base + SPOT] = spotFromResult(c.raw) ?? NaN;
    if (r.slice) {
      out.ranges[2 * i] = r.slice.byteOffset - buf.byteOffset;
      out.ranges[2 * i + 1] = r.slice.byteOffset - buf.byteOffset + r.slice.length;
    }
    sink?.add(i, c, r.slice, r.text);
    if (raw) raw[i] = c.raw;
    if (underlying) underlying[i] = c.raw?.underlying_asset;
  }
  if (raw) out.raw = raw;
  if (underlying) out.underlying = underlying;
  return out;
}

const NEXT_URL_KEY = Buffer.from('"next_url"');

function skipSpace(buf: Buffer, k: number): number {
  while (k < buf.length && (buf[k] === 0x20 || buf[k] === 0x0a || buf[k] === 0x0d || buf[k] === 0x09)) k++;
  return k;
}

/**
 * A cheap guess at the page's `next_url` from its last `"next_url": "…"` in the bytes, without parsing
 * (the vendor writes it after `results`, so the search from the end stops within a few hundred bytes).
 * Only a hint: the chain client starts the next request with it while the page decodes, and uses that
 * request only when the decoded page names the same URL. Undefined when there is none, or when the value
 * holds escapes (the decoded page decides then).
 */
export function peekNextUrl(buf: Buffer): string | undefined {
  const i = buf.lastIndexOf(NEXT_URL_KEY);
  if (i < 0) return undefined;
  let k = skipSpace(buf, i + NEXT_URL_KEY.length);
  if (buf[k] !== 0x3a /* : */) return undefined;
  k = skipSpace(buf, k + 1);
  if (buf[k] !== 0x22 /* " */) return undefined;
  const end = buf.indexOf(0x22, k + 1);
  if (end < 0) return undefined;
  const slash = buf.indexOf(0x5c /* \ */, k + 1);
  if (slash >= 0 && slash < end) return undefined;
  return buf.toString('utf8', k + 1, end);
}
