/**
 * @module A decoded page (page-decode.ts) back into {@link ParsedContract}s on the main thread: a few
 * hundred object allocations per page, each contract's raw JSON a view of the page's bytes or of its encoded
 * writes, and its vendor fields read from the page's numbers when asked. Pure.
 */
import type { SkipReason } from './parse-contract.js';
import { SKIP_REASONS, SPOT, STRIDE, STRIKE, TS, fieldsAt, tsOf, type FieldSource } from './page-fields.js';
import type { DecodedPage } from './page-decode.js';
import { vendorBytes } from './vendor-bytes.js';
import type { ContractType, ParsedContract, RawContract, VendorFields } from './types.js';
import {
  encodePageWrites,
  WRITE_STRIDE,
  type EncodedRef,
  type WriteEncoding,
} from '../../wiring/page-writes.js';

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
