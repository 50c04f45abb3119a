/**
 * @module A page's bulk writes, pre-encoded where the page is decoded (a page thread): for each contract
 * the normalizer accepts, `SET {raw snapshot key} {bytes as fetched} EX …` then `SET
 * epoch:{id}:contract:{ticker} {substrate} EX …`, as RESP bytes in one buffer per page. Pure.
 *
 * Why: building keys, the substrate JSON and the RESP bytes of 40,000 commands cost the main thread more
 * than Redis takes to execute them. Done per page on a page thread, it overlaps the fetch, and the write
 * phase only patches the epoch id in and streams the buffers (see {@link encodedSnapshotWrites}).
 *
 * The epoch id is decided after the whole chain is fetched (its geometry), so each substrate key carries a
 * placeholder of the id's exact length ({@link epochIdPlaceholder}: ids are `{U}:{seconds}:{6 chars}`),
 * overwritten in place before the bytes are sent. The same normalizer and serializer as the main thread's
 * make the same bytes (tested side by side with {@link buildSnapshotWrites}).
 */
import { normalizeContract, type RejectReason } from '../normalizers/contract-normalizer.js';
import type { ContractSubstrate } from '../normalizers/substrate.js';
import type { ParsedContract } from '../provider/massive/types.js';
import { KeySchema } from '../redis/keys.js';
import { encodeCommands, type BulkCommand } from '../redis/resp.js';
import type { ByteRange } from './chain-latest-doc.js';
import { vendorBytes } from '../provider/massive/vendor-bytes.js';
import { snapshotKeyOf, type WrittenContract } from './snapshot-writes.js';

/** What a page thread needs to encode a page's writes (all known before the first page is fetched). */
export interface WriteEncoding {
  /** The key schema's namespace prefix. */
  prefix: string;
  underlying: string;
  /** The snapshot's as-of time, ms (the substrate's `ts`). */
  asOfMs: number;
  snapshotSec: number;
  substrateSec: number;
}

/** The normalizer's rejections, by code (1 + index) in a rejected contract's third offset. */
export const REJECT_REASONS = [
  'bad_number',
  'negative_price',
  'absurd_price',
  'absurd_oi',
  'absurd_volume',
  'absurd_greek',
  'crossed_quote',
] as const satisfies readonly RejectReason[];

/** Numbers per result in {@link PageWrites.offsets}. */
export const WRITE_STRIDE = 5;

/**
 * One page's encoded writes. Per result (page order), {@link WRITE_STRIDE} offsets into `bytes`: the two
 * commands' [start, end) (equal when the normalizer rejected it: nothing to write), where the epoch
 * placeholder starts (for a rejected contract: 1 + the index of its reason in {@link REJECT_REASONS}), and [start, end) of the contract's bytes as fetched (its raw JSON, also present for
 * a rejected contract; both 0 for a result that was not a contract).
 */
export interface PageWrites {
  bytes: Uint8Array;
  offsets: Uint32Array;
  /** The placeholder's length: only an epoch id of this length can be patched in. */
  epochIdLength: number;
}

/** A placeholder with the shape of an epoch id of `underlying` (see `newEpochId`). */
export function epochIdPlaceholder(underlying: string): string {
  return `${underlying}:${'0'.repeat(10)}:${'0'.repeat(6)}`;
}

/**
 * What a page's encoder sets up once: the key schema, the placeholder, the normalizer's context, and each
 * command's tail after its value (`EX` and the TTL).
 */
abstract class PageEncoding {
  protected readonly keys: KeySchema;
  protected readonly placeholder: string;
  protected readonly ctx: { underlying: string; asOf: number };
  protected readonly snapTail: string;
  protected readonly subTail: string;
  /** {@link WRITE_STRIDE} offsets per result (see {@link PageWrites}). */
  protected readonly offsets: Uint32Array;

  constructor(
    count: number,
    protected readonly enc: WriteEncoding,
  ) {
    this.keys = new KeySchema(enc.prefix);
    this.placeholder = epochIdPlaceholder(enc.underlying);
    this.ctx = { underlying: enc.underlying, asOf: enc.asOfMs };
    const snapTtl = String(enc.snapshotSec);
    const subTtl = String(enc.substrateSec);
    this.snapTail = `\r\n$2\r\nEX\r\n$${snapTtl.length}\r\n${snapTtl}\r\n`;
    this.subTail = `\r\n$2\r\nEX\r\n$${subTtl.length}\r\n${subTtl}\r\n`;
    this.offsets = new Uint32Array(count * WRITE_STRIDE);
  }
}

/**
 * Encodes a page's writes one result at a time (`add`, in page order), so a page thread can encode each
 * contract as soon as it is parsed and let its vendor object go.
 */
export class PageWritesEncoder extends PageEncoding {
  private readonly parts: (string | Uint8Array)[] = [];
  private size = 0;

  private push(p: string | Uint8Array): void {
    this.parts.push(p);
    this.size += typeof p === 'string' ? Buffer.byteLength(p) : p.byteLength;
  }

  /** Result `i` (a contract; skipped results are not added) and its bytes as fetched. */
  add(i: number, c: ParsedContract, raw: Uint8Array): void {
    const { offsets, keys, placeholder } = this;
    const o = i * WRITE_STRIDE;
    const res = normalizeContract(c, this.ctx);
    if (!res.ok) {
      offsets[o + 2] = 1 + REJECT_REASONS.indexOf(res.reason);
      offsets[o + 3] = this.size;
      this.push(raw);
      offsets[o + 4] = this.size;
      return;
    }
    offsets[o] = this.size;
    const rawKey = snapshotKeyOf(keys, this.enc.underlying, c);
    this.push(`*5\r\n$3\r\nSET\r\n$${Buffer.byteLength(rawKey)}\r\n${rawKey}\r\n$${raw.byteLength}\r\n`);
    offsets[o + 3] = this.size;
    this.push(raw);
    offsets[o + 4] = this.size;
    this.push(this.snapTail);
    const subKey = keys.epochContract(placeholder, c.ticker);
    const head = `*5\r\n$3\r\nSET\r\n$${Buffer.byteLength(subKey)}\r\n`;
    offsets[o + 2] =
      this.size + Buffer.byteLength(head) + Buffer.byteLength(subKey.slice(0, subKey.indexOf(placeholder)));
    const json = JSON.stringify(res.record);
    this.push(`${head}${subKey}\r\n$${Buffer.byteLength(json)}\r\n${json}${this.subTail}`);
    offsets[o + 1] = this.size;
  }

  finish(): PageWrites {
    // Not from Node's shared pool: the buffer's memory is transferred to the main thread whole.
    const bytes = Buffer.allocUnsafeSlow(this.size);
    let at = 0;
    for (const p of this.parts) {
      if (typeof p === 'string') at += bytes.write(p, at, 'utf8');
      else {
        bytes.set(p, at);
        at += p.byteLength;
      }
    }
    return { bytes, offsets: this.offsets, epochIdLength: Buffer.byteLength(this.placeholder) };
  }
}

/**
 * Encodes one page's writes. `contracts[i]` is the page's i-th result (undefined when it was skipped) and
 * `rawOf(i)` its bytes as fetched.
 */
export function encodePageWrites(
  contracts: readonly (ParsedContract | undefined)[],
  rawOf: (i: number) => Uint8Array,
  enc: WriteEncoding,
): PageWrites {
  const w = new PageWritesEncoder(contracts.length, enc);
  contracts.forEach((c, i) => {
    if (c) w.add(i, c, rawOf(i));
  });
  return w.finish();
}

/** Characters of text an ASCII encoder gathers before it writes them out (a string well under 128 KB). */
const ASCII_CHUNK = 16 * 1024;

/**
 * The buffer an {@link AsciiPageWritesEncoder} writes into, kept by the thread from page to page (a page's
 * own buffer is then allocated once, at its exact size). Grown when a page needs more.
 */
let scratch = Buffer.allocUnsafeSlow(0);

/**
 * {@link PageWritesEncoder} for a page whose bytes are ASCII, from each contract's raw JSON as text: the
 * same bytes. `finish` gives null when the text was not ASCII after all (a non-ASCII key prefix or
 * underlying): the caller then uses {@link PageWritesEncoder}.
 *
 * Why: {@link PageWritesEncoder} measures and writes three strings and one byte range per contract (about
 * 150,000 calls into Node's buffer code per 20,000-contract fetch); with ASCII text a character is a byte,
 * so lengths and offsets are string lengths, and the text is written out a chunk at a time. Never the page's
 * writes as one string: ~230 KB, over V8's 128 KB limit for an ordinary object, so a large object on freshly
 * mapped pages (see page-pieces.ts for what that costs).
 */
export class AsciiPageWritesEncoder extends PageEncoding {
  /** Text not yet written out, and how many bytes were before it. */
  private text = '';
  private base = 0;
  private ascii = true;

  /** Result `i` (a contract; skipped results are not added) and its raw JSON as text. */
  add(i: number, c: ParsedContract, raw: string): void {
    const { offsets, keys, placeholder } = this;
    const o = i * WRITE_STRIDE;
    const res = normalizeContract(c, this.ctx);
    if (!res.ok) {
      offsets[o + 2] = 1 + REJECT_REASONS.indexOf(res.reason);
      offsets[o + 3] = this.base + this.text.length;
      this.text += raw;
      offsets[o + 4] = this.base + this.text.length;
    } else {
      offsets[o] = this.base + this.text.length;
      const rawKey = snapshotKeyOf(keys, this.enc.underlying, c);
      this.text += `*5\r\n$3\r\nSET\r\n$${rawKey.length}\r\n${rawKey}\r\n$${raw.length}\r\n`;
      offsets[o + 3] = this.base + this.text.length;
      this.text += raw;
      offsets[o + 4] = this.base + this.text.length;
      this.text += this.snapTail;
      const subKey = keys.epochContract(placeholder, c.ticker);
      const head = `*5\r\n$3\r\nSET\r\n$${subKey.length}\r\n`;
      offsets[o + 2] = this.base + this.text.length + head.length + subKey.indexOf(placeholder);
      const json = JSON.stringify(res.record);
      this.text += `${head}${subKey}\r\n$${json.length}\r\n${json}${this.subTail}`;
      offsets[o + 1] = this.base + this.text.length;
    }
    if (this.text.length >= ASCII_CHUNK) this.flush();
  }

  /**
   * Writes the gathered text out. UTF-8 gives one byte per character exactly when every one is ASCII; the
   * room for three bytes a character means no write is cut short (a cut could even out the count).
   */
  private flush(): void {
    const n = this.text.length;
    if (n === 0) return;
    const room = this.base + 3 * n;
    if (scratch.length < room) {
      const grown = Buffer.allocUnsafeSlow(Math.max(room, 2 * scratch.length, 256 * 1024));
      scratch.copy(grown, 0, 0, this.base);
      scratch = grown;
    }
    if (scratch.write(this.text, this.base, 'utf8') !== n) this.ascii = false;
    this.base += n;
    this.text = '';
  }

  finish(): PageWrites | null {
    this.flush();
    if (!this.ascii) return null;
    // Not from Node's shared pool: the buffer's memory is transferred to the main thread whole.
    const bytes = Buffer.allocUnsafeSlow(this.base);
    scratch.copy(bytes, 0, 0, this.base);
    return { bytes, offsets: this.offsets, epochIdLength: this.placeholder.length };
  }
}

/**
 * {@link encodePageWrites} for a page whose bytes are ASCII, from each contract's raw JSON as text (a
 * substring of the page's text): the same bytes ({@link AsciiPageWritesEncoder}). Null when the result is
 * not ASCII (a non-ASCII key prefix, underlying or raw JSON): the caller then uses {@link encodePageWrites}.
 */
export function encodeAsciiPageWrites(
  contracts: readonly (ParsedContract | undefined)[],
  rawTextOf: (i: number) => string,
  enc: WriteEncoding,
): PageWrites | null {
  const w = new AsciiPageWritesEncoder(contracts.length, enc);
  contracts.forEach((c, i) => {
    if (c) w.add(i, c, rawTextOf(i));
  });
  return w.finish();
}

/** A contract's pre-encoded writes: its page's {@link PageWrites} and its index there. */
export interface EncodedRef {
  writes: PageWrites & { bytes: Buffer };
  index: number;
}

/**
 * Where a contract's vendor bytes are (what `vendorBytes` returns), set in `into` without making a view:
 * for a contract with encoded writes, their range of the page's buffer (offsets 3 and 4, the bytes as
 * fetched); otherwise the contract's own bytes.
 */
export function vendorBytesRange(
  c: Pick<ParsedContract, 'rawJson' | 'raw' | 'encoded'>,
  into: ByteRange,
): void {
  const e = c.encoded;
  if (e) {
    const o = e.index * WRITE_STRIDE;
    into.buf = e.writes.bytes;
    into.start = e.writes.offsets[o + 3] as number;
    into.end = e.writes.offsets[o + 4] as number;
    return;
  }
  const b = vendorBytes(c);
  into.buf = b;
  into.start = 0;
  into.end = b.length;
}

/** The normalizer's verdict on the page thread: null when accepted (its writes are encoded), else why not. */
export function encodedRejection(ref: EncodedRef): RejectReason | null {
  const o = ref.index * WRITE_STRIDE;
  if ((ref.writes.offsets[o + 1] as number) > (ref.writes.offsets[o] as number)) return null;
  return REJECT_REASONS[(ref.writes.offsets[o + 2] as number) - 1] ?? 'bad_number';
}

/**
 * A contract the page thread accepted: its substrate is computed again only if something asks for it
 * (a merge, or writes that cannot use the encoded bytes), by the same normalizer, so the same record.
 */
export class AcceptedContract implements WrittenContract {
  private substrate: ContractSubstrate | undefined;
  constructor(
    readonly contract: ParsedContract,
    private readonly ctx: { underlying: string; asOf: number },
  ) {}

  get record(): ContractSubstrate {
    if (!this.substrate) {
      const res = normalizeContract(this.contract, this.ctx);
      if (!res.ok) throw new Error(`contract ${this.contract.ticker} was accepted on its page thread only`);
      this.substrate = res.record;
    }
    return this.substrate;
  }
}

/** Pre-encoded bulk writes: the number of commands and their bytes, in chunks (the last may be a promise). */
export interface EncodedWrites extends Iterable<Buffer | Promise<Buffer>> {
  readonly commands: number;
}

const CHUNK_BYTES = 256 * 1024;

/**
 * Whether a contract's pre-encoded writes can be sent for epoch `epochId`: it has them, the normalizer
 * accepted it (its commands are not empty), and the id fits the placeholder.
 */
export function encodedWriteFits(e: EncodedRef | undefined, epochId: string): boolean {
  return encodedWriteFitsBytes(e, Buffer.byteLength(epochId));
}

/** {@link encodedWriteFits} for an epoch id of `idBytes` bytes (measured once for a whole chain). */
export function encodedWriteFitsBytes(e: EncodedRef | undefined, idBytes: number): boolean {
  if (!e || e.writes.epochIdLength !== idBytes) return false;
  const o = e.index * WRITE_STRIDE;
  return (e.writes.offsets[o + 1] as number) > (e.writes.offsets[o] as number);
}

/**
 * The writes {@link buildSnapshotWrites} would send (each contract's raw key and substrate, then the
 * contract index), from the pre-encoded page bytes, with `epochId` patched in. Null when a contract has
 * no encoded writes, or the id does not fit the placeholder: the caller then encodes them itself.
 * `index` may still be coming (it is compressed while the contracts' writes stream): its chunk is then
 * the last one, a promise of its bytes, which the bulk writer awaits in turn (nothing else goes out on its
 * connection before it).
 */
export function encodedSnapshotWrites(
  written: readonly WrittenContract[],
  encodedOf: (c: WrittenContract['contract']) => EncodedRef | undefined,
  epochId: string,
  index: BulkCommand | Promise<BulkCommand>,
  /** `checked`: every contract already passed {@link encodedWriteFits} (e.g. in slices). */
  opts: { checked?: boolean } = {},
): EncodedWrites | null {
  const idBytes = Buffer.byteLength(epochId);
  if (!opts.checked && !written.every((w) => encodedWriteFitsBytes(encodedOf(w.contract), idBytes)))
    return null;
  return new PatchedPageWrites(written, encodedOf, epochId, index);
}

/**
 * {@link encodedSnapshotWrites}' chunks. A class, not an object literal with a generator made per call: a
 * closure's optimized code does not outlive the call (lib/shape-anchors.ts), and the generator of an object
 * made per cycle was compiled again every cycle (11 times in 11 bursts, ~50 ms of a helper thread each, the
 * loop over 20,000 contracts running unoptimized meanwhile).
 */
class PatchedPageWrites implements EncodedWrites {
  readonly commands: number;

  constructor(
    private readonly written: readonly WrittenContract[],
    private readonly encodedOf: (c: WrittenContract['contract']) => EncodedRef | undefined,
    private readonly epochId: string,
    private readonly index: BulkCommand | Promise<BulkCommand>,
  ) {
    this.commands = written.length * 2 + 1;
  }

  *[Symbol.iterator](): Generator<Buffer | Promise<Buffer>> {
    const { written, encodedOf, epochId, index } = this;
    const chunk = new ChunkList();
    // Adjacent contracts of one page are one slice (a page's accepted contracts are contiguous).
    for (const w of written) {
      const e = encodedOf(w.contract) as EncodedRef;
      const o = e.index * WRITE_STRIDE;
      const start = e.writes.offsets[o] as number;
      const end = e.writes.offsets[o + 1] as number;
      e.writes.bytes.write(epochId, e.writes.offsets[o + 2] as number, 'latin1');
      chunk.add(e.writes.bytes, start, end);
      if (chunk.bytes + chunk.runBytes() >= CHUNK_BYTES) yield chunk.take();
    }
    chunk.flushRun();
    if (index instanceof Promise) {
      if (chunk.list.length > 0) yield chunk.take();
      yield index.then((ix) => encodeCommands([ix]));
      return;
    }
    chunk.list.push(encodeCommands([index]));
    yield Buffer.concat(chunk.list);
  }
}

/** Byte ranges gathered into chunks: adjacent ranges of one buffer become one slice of it. */
class ChunkList {
  list: Buffer[] = [];
  bytes = 0;
  private run: { buf: Buffer; start: number; end: number } | null = null;

  add(buf: Buffer, start: number, end: number): void {
    const run = this.run;
    if (run && run.buf === buf && run.end === start) run.end = end;
    else {
      this.flushRun();
      this.run = { buf, start, end };
    }
  }

  runBytes(): number {
    return this.run ? this.run.end - this.run.start : 0;
  }

  flushRun(): void {
    const run = this.run;
    if (!run) return;
    this.list.push(run.buf.subarray(run.start, run.end));
    this.bytes += run.end - run.start;
    this.run = null;
  }

  /** The chunk so far (the current run included), and a new one begun. */
  take(): Buffer {
    this.flushRun();
    const out = this.list.length === 1 ? (this.list[0] as Buffer) : Buffer.concat(this.list, this.bytes);
    this.list = [];
    this.bytes = 0;
    return out;
  }
}
