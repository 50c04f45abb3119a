/**
 * @module One chain page's bytes → the lifted fields of each result and the byte range of each result in
 * the page, in a compact form that crosses a thread boundary cheaply (typed arrays and short string
 * arrays, no vendor objects). Pure: it runs on a page thread (see page-pool.ts) or, without one, inline.
 *
 * The main thread turns a {@link DecodedPage} back into {@link ParsedContract}s with {@link liftContracts}
 * (a few hundred object allocations per page), keeping the page bytes and slicing each contract's raw
 * JSON out of them without a copy. The lifted fields keep their values as sent: a number travels as a
 * number, anything else (null, a string) in a short side list.
 */
import { isAscii } from 'node:buffer';
import { documentProblem } from './api-document.js';
import { parseContract, spotFromResult, type SkipReason } from './parse-contract.js';
import { splitPage } from './split-results.js';
import { parsePagePieces } from './page-pieces.js';
import {
  FIELD_NAMES,
  NF,
  SPOT,
  STRIDE,
  STRIKE,
  TS,
  fieldsAt,
  tsOf,
  type FieldSource,
} from './page-fields.js';
import { vendorBytes } from './vendor-bytes.js';
import type { ChainPage, ContractType, ParsedContract, RawContract, VendorFields } from './types.js';
import {
  encodeAsciiPageWrites,
  encodePageWrites,
  WRITE_STRIDE,
  type EncodedRef,
  type PageWrites,
  type WriteEncoding,
} from '../../wiring/page-writes.js';

const SKIP_REASONS: readonly SkipReason[] = [
  'not_object',
  'no_ticker',
  'bad_ticker',
  'unknown_type',
  'bad_strike',
  'bad_expiration',
];

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
 * {@link decodePage}, then with `opts.writes` the page's encoded writes as {@link attachPageWrites} makes
 * them (the same bytes), from the contracts the decode parsed: what a page thread does. An ASCII page's
 * writes are built from its text (encodeAsciiPageWrites), others from its bytes.
 */
export function decodePageWithWrites(bytes: Buffer, opts: DecodeOptions): DecodedPage {
  if (!opts.writes) return decodeWith(bytes, opts, undefined);
  const kept: Kept = { rawText: () => '', contracts: [] };
  const page = decodeWith(bytes, opts, kept);
  const enc = opts.writes;
  const rawOf = (i: number): Buffer | undefined =>
    page.exact ? bytes.subarray(page.ranges[2 * i], page.ranges[2 * i + 1]) : undefined;
  const fallback = (i: number): string => JSON.stringify(kept.contracts[i]?.raw ?? {});
  page.writes =
    (isAscii(bytes)
      ? encodeAsciiPageWrites(kept.contracts, (i) => (page.exact ? kept.rawText(i) : fallback(i)), enc)
      : null) ?? encodePageWrites(kept.contracts, (i) => rawOf(i) ?? Buffer.from(fallback(i)), enc);
  return page;
}

/** What the decode keeps for the page's writes: each result's text as fetched, and each accepted contract. */
interface Kept {
  /** Result `i`'s JSON text exactly as fetched (when the page could be split). */
  rawText: (i: number) => string;
  contracts: (ParsedContract | undefined)[];
}

function decodeWith(bytes: Uint8Array, opts: DecodeOptions, kept: Kept | undefined): DecodedPage {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const split = splitPage(buf);
  const pieces = split ? parsePagePieces(buf, split) : null;
  let page: ChainPage;
  if (pieces) {
    page = pieces.page;
    if (kept) kept.rawText = (i) => pieces.texts[i] as string;
  } else {
    try {
      const text = buf.toString('utf8');
      page = JSON.parse(text) as ChainPage;
      if (kept) kept.rawText = (i) => text.slice(out.ranges[2 * i], out.ranges[2 * i + 1]);
    } catch (err) {
      throw new PageSyntaxError((err as Error).message);
    }
  }
  const problem = documentProblem(page);
  if (problem !== undefined) throw new PageSyntaxError(problem);
  // A list (documentProblem), or none.
  const results: readonly unknown[] = page.results ?? [];
  const count = results.length;
  const slices = count > 0 && split ? split.slices : null;
  const exact = slices !== null && slices.length === count;
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
  if (kept) kept.contracts = new Array<ParsedContract | undefined>(count).fill(undefined);
  const raw = opts.keepRaw || !exact ? new Array<RawContract | undefined>(count) : undefined;
  const underlying = opts.wantUnderlying
    ? new Array<RawContract['underlying_asset'] | undefined>(count)
    : undefined;
  for (let i = 0; i < count; i++) {
    const parsed = parseContract(results[i]);
    if (!parsed.ok) {
      out.status[i] = 1 + SKIP_REASONS.indexOf(parsed.reason);
      continue;
    }
    const c = parsed.contract;
    if (kept) kept.contracts[i] = c;
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
    if (exact) {
      const s = slices[i] as Buffer;
      out.ranges[2 * i] = s.byteOffset - buf.byteOffset;
      out.ranges[2 * i + 1] = s.byteOffset - buf.byteOffset + s.length;
    }
    if (raw) raw[i] = c.raw;
    if (underlying) underlying[i] = c.raw?.underlying_asset;
  }
  if (raw) out.raw = raw;
  if (underlying) out.underlying = underlying;
  return out;
}

/** One result of a decoded page, as the chain client merges it. */
export type LiftedResult =
  | {
      ok: true;
      contract: ParsedContract;
      /** The spot this result carries (`underlying_asset.value` or `.price`). */
      spot: number | null;
      /** Its `fields.ts` (newest vendor timestamp as sent), read without building `fields`. */
      ts: number | null;
      /** Its `underlying_asset`, when it was asked for. */
      underlying: RawContract['underlying_asset'] | undefined;
    }
  | { ok: false; reason: SkipReason };

/**
 * The page's results as {@link ParsedContract}s (or skip reasons), in page order. `bytes` is the page
 * (the contracts' `rawJson` are slices of it, zero-copy), unused when the page has encoded writes (the
 * raw JSON is read from them; a page thread then keeps the bytes: null); `underlying_asset` is set on
 * `raw` only when it was asked for.
 */
export function liftContracts(page: DecodedPage, bytes: Buffer | null): LiftedResult[] {
  const out = new Array<LiftedResult>(page.count);
  const w = page.writes;
  const writes = w
    ? {
        ...w,
        bytes: Buffer.isBuffer(w.bytes)
          ? w.bytes
          : Buffer.from(w.bytes.buffer, w.bytes.byteOffset, w.bytes.byteLength),
      }
    : undefined;
  // Encoded contracts read their fields from the page's numbers when asked (see EncodedContract).
  const source: FieldSource | undefined = writes ? { nums: page.nums, odd: page.odd } : undefined;
  for (let i = 0; i < page.count; i++) {
    const st = page.status[i] as number;
    if (st !== 0) {
      out[i] = { ok: false, reason: SKIP_REASONS[st - 1] as SkipReason };
      continue;
    }
    const n = page.nums;
    const b = i * STRIDE;
    const ticker = page.tickers[i] as string;
    const root = page.names[page.rootIds[i] as number] as string;
    const expiration = page.names[page.expirationIds[i] as number] as string;
    const type = page.types[i] === 67 ? 'C' : 'P';
    const strike = n[b + STRIKE] as number;
    const raw = page.raw?.[i];
    let contract: ParsedContract;
    if (writes && source) {
      // The bytes as fetched are in the encoded writes (so the page itself can go); read when asked.
      contract = new EncodedContract(ticker, root, expiration, type, strike, source, { writes, index: i });
    } else {
      contract = { ticker, root, expiration, type, strike, fields: fieldsAt(page, i) };
      if (page.exact && bytes) contract.rawJson = bytes.subarray(page.ranges[2 * i], page.ranges[2 * i + 1]);
    }
    if (raw) contract.raw = raw;
    const spot = n[b + SPOT] as number;
    out[i] = {
      ok: true,
      contract,
      spot: Number.isNaN(spot) ? null : spot,
      ts: tsOf(n[b + TS]),
      underlying: page.underlying?.[i],
    };
  }
  return out;
}

/**
 * A lifted contract with encoded writes. Its raw JSON is a view of them made when read (`rawJson`), so a
 * fetch does not keep a Buffer object per contract on the main thread (20,000 per burst fetch, all
 * surviving into the old generation). Its fields likewise are read from the page's numbers when asked:
 * the page thread already normalized it, so on the main thread they are read only by a fallback (a
 * cluster write, a substrate normalized again); an object of eleven numbers per contract (most of them
 * heap numbers) was the largest part of what a burst fetch kept on the main heap. Setting `rawJson` or
 * `fields` replaces the view with an own property.
 */
class EncodedContract implements ParsedContract {
  raw?: RawContract;
  constructor(
    public ticker: string,
    public root: string,
    public expiration: string,
    public type: ContractType,
    public strike: number,
    private readonly source: FieldSource,
    public encoded: EncodedRef,
  ) {}

  get fields(): VendorFields {
    return fieldsAt(this.source, this.encoded.index);
  }

  set fields(fields: VendorFields) {
    ownProperty(this, 'fields', fields);
  }

  get rawJson(): Buffer {
    const { writes, index } = this.encoded;
    const o = index * WRITE_STRIDE;
    return writes.bytes.subarray(writes.offsets[o + 3], writes.offsets[o + 4]) as Buffer;
  }

  set rawJson(bytes: Buffer | undefined) {
    ownProperty(this, 'rawJson', bytes);
  }
}

function ownProperty(o: object, name: string, value: unknown): void {
  Object.defineProperty(o, name, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Adds the page's encoded writes to a decoded page in two steps: lift its contracts, then encode them
 * (encodePageWrites). The page threads and the inline decoder use {@link decodePageWithWrites}, which
 * reuses the contracts the decode parsed and must give these very bytes: this is its reference
 * (`test/unit/page-writes.test.ts`).
 */
export function attachPageWrites(page: DecodedPage, bytes: Buffer, enc: WriteEncoding): void {
  const lifted = liftContracts(page, bytes);
  const contracts = lifted.map((r) => (r.ok ? r.contract : undefined));
  page.writes = encodePageWrites(
    contracts,
    (i) => {
      const c = contracts[i] as ParsedContract;
      return vendorBytes(c);
    },
    enc,
  );
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
