/**
 * The page threads' pre-encoded writes are byte for byte what the main thread would send
 * (`buildSnapshotWrites` encoded by `encodeCommands`) once the epoch id is patched in: same keys, same
 * substrate JSON, same TTLs, rejected contracts left out, the contract index last. And they are refused
 * (null: the caller encodes) when a contract has none or the id does not fit the placeholder.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { newEpochId } from '../../src/chain-worker/geometry.js';
import { normalizeSnapshot } from '../../src/normalizers/registry.js';
import { decodePage, decodePageWithWrites } from '../../src/provider/massive/page-decode.js';
import { attachPageWrites, liftContracts } from '../../src/provider/massive/page-lift.js';
import { PagePool } from '../../src/provider/massive/page-pool.js';
import type { ChainSnapshot, ParsedContract } from '../../src/provider/massive/types.js';
import { KeySchema } from '../../src/redis/keys.js';
import { encodeCommands } from '../../src/redis/resp.js';
import {
  AcceptedContract,
  encodeAsciiPageWrites,
  encodedSnapshotWrites,
  encodedWriteFits,
  encodedWriteFitsBytes,
  encodePageWrites,
  epochIdPlaceholder,
  vendorBytesRange,
} from '../../src/wiring/page-writes.js';
import { contractsFragment, contractsFragmentInSlices } from '../../src/wiring/chain-latest-doc.js';
import { vendorBytes } from '../../src/provider/massive/vendor-bytes.js';
import { normalizePhase } from '../../src/chain-worker/phases/normalize.js';
import { encodeContractIndex } from '../../src/wiring/contract-index.js';
import { turnsDuring } from '../support/turns.js';
import {
  buildSnapshotWrites,
  contractIndexWrite,
  writtenIds,
  type WrittenContract,
} from '../../src/wiring/snapshot-writes.js';

const pools: PagePool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

const ASOF = 1767798000123;
const keys = new KeySchema('cwtest:pw:');
const ttl = { snapshotSec: 300, substrateSec: 240 };
const encoding = {
  prefix: keys.prefix,
  snapshotSec: 300,
  substrateSec: 240,
  underlying: 'SPX',
  asOfMs: ASOF,
};

/**
 * A page: SPXW and AM-settled SPX roots, a rejected contract (negative bid), a skipped result, and a
 * non-ASCII note unless `note` says otherwise (an ASCII page's writes are built from its text).
 */
function pageText(strikeBase: number, note = 'délai'): string {
  const results: unknown[] = Array.from({ length: 40 }, (_, i) => {
    const root = i % 3 === 0 ? 'SPX' : 'SPXW';
    const strike = strikeBase + i * 5 + (i % 4 === 0 ? 0.5 : 0);
    const code = String(Math.round(strike * 1000)).padStart(8, '0');
    return {
      details: { ticker: `O:${root}260116${i % 2 ? 'C' : 'P'}${code}`, strike_price: strike },
      last_quote: { bid: i === 7 ? -1 : i / 10, ask: i / 10 + 0.2, midpoint: i % 5 ? null : i / 10 + 0.1 },
      greeks: i % 7 === 0 ? {} : { delta: 0.5, gamma: 0.0001 * i, theta: -0.5, vega: 1.25 },
      implied_volatility: 0.2 + i / 1000,
      open_interest: i % 5 === 0 ? null : i * 3,
      day: { volume: i },
      note,
      underlying_asset: { ticker: 'I:SPX', value: 6848.25 },
    };
  });
  results.splice(11, 0, { details: { ticker: 'garbage' } });
  return JSON.stringify({ status: 'OK', results });
}

/** The page's contracts decoded on a page thread, inline as a page thread does, or inline in two steps. */
async function contractsOf(text: string, how: boolean | 'attach'): Promise<ParsedContract[]> {
  const opts = { keepRaw: false, wantUnderlying: false, writes: encoding };
  let page;
  let bytes: Buffer | null;
  if (how === true) {
    const pool = new PagePool(1);
    pools.push(pool);
    ({ page, bytes } = await pool.decode(Buffer.from(text), opts));
    // With writes the page bytes stay with the thread: the contracts' raw JSON is read from the writes.
    expect(bytes).toBeNull();
  } else if (how === false) {
    bytes = Buffer.from(text);
    page = decodePageWithWrites(bytes, opts);
  } else {
    bytes = Buffer.from(text);
    page = decodePage(bytes, opts);
    attachPageWrites(page, bytes, encoding);
  }
  return liftContracts(page, bytes).flatMap((r) => (r.ok ? [r.contract] : []));
}

function writtenOf(contracts: ParsedContract[], rejected: number): WrittenContract[] {
  const norm = normalizeSnapshot(contracts, { underlying: 'SPX', asOf: ASOF });
  const byId = new Map(norm.records.map((r) => [r.id, r]));
  expect(norm.rejectedCount).toBe(rejected);
  return contracts.flatMap((c) => {
    const record = byId.get(c.ticker);
    return record ? [{ contract: c, record }] : [];
  });
}

describe('pre-encoded page writes', () => {
  it.each([
    ['on a page thread', true, 'délai'],
    ['inline', false, 'délai'],
    ['inline in two steps', 'attach', 'délai'],
    ['on a page thread, ASCII page', true, 'delai'],
    ['inline, ASCII page', false, 'delai'],
    ['inline in two steps, ASCII page', 'attach', 'delai'],
  ] as const)('equal the main thread encoding, %s', async (_name, threaded, note) => {
    const contracts = [
      ...(await contractsOf(pageText(6000, note), threaded)),
      ...(await contractsOf(pageText(7000, note), threaded)),
    ];
    const written = writtenOf(contracts, 2);
    expect(written.length).toBe(78);
    // The raw JSON is read from the encoded writes: still the bytes as fetched.
    expect((JSON.parse(contracts[1]?.rawJson?.toString('utf8') ?? '') as { note: string }).note).toBe(note);
    const packed = await encodeContractIndex(writtenIds(written));
    for (const epochId of [newEpochId('SPX', Date.now()), newEpochId('SPX', Date.now() + 86_400_000)]) {
      const expected = encodeCommands([
        ...buildSnapshotWrites(keys, { underlying: 'SPX' }, written, epochId, ttl, packed),
      ]);
      const index = contractIndexWrite(keys, packed, epochId, ttl);
      // The index given, or still being compressed (a promise: the last chunk is then a promise too).
      for (const given of [index, Promise.resolve(index)]) {
        const enc = encodedSnapshotWrites(written, (c) => c.encoded, epochId, given);
        expect(enc?.commands).toBe(written.length * 2 + 1);
        const chunks = [...(enc ?? [])];
        expect(chunks.slice(0, -1).every((c) => Buffer.isBuffer(c))).toBe(true);
        expect(chunks.at(-1) instanceof Promise).toBe(given instanceof Promise);
        const bytes: Buffer[] = [];
        for (const c of chunks) bytes.push(Buffer.isBuffer(c) ? c : await c);
        expect(Buffer.concat(bytes).toString('utf8')).toBe(expected.toString('utf8'));
      }
    }
  });

  it('from text: the same bytes and offsets as from bytes, or null when the writes are not ASCII', () => {
    const bytes = Buffer.from(pageText(6000, 'delai'));
    const page = decodePage(bytes, { keepRaw: true, wantUnderlying: false });
    const contracts = liftContracts(page, bytes).map((r) => (r.ok ? r.contract : undefined));
    const raw = (i: number): Buffer => contracts[i]?.rawJson as Buffer;
    const text = (i: number): string => raw(i).toString('latin1');
    const fromBytes = encodePageWrites(contracts, raw, encoding);
    const fromText = encodeAsciiPageWrites(contracts, text, encoding);
    expect(Buffer.from(fromText?.bytes ?? []).equals(Buffer.from(fromBytes.bytes))).toBe(true);
    expect([...(fromText?.offsets ?? [])]).toEqual([...fromBytes.offsets]);
    expect(fromText?.epochIdLength).toBe(fromBytes.epochIdLength);
    expect(encodeAsciiPageWrites(contracts, text, { ...encoding, prefix: 'cwtest:é:' })).toBeNull();
    expect(
      encodeAsciiPageWrites(contracts, (i) => `${text(i)} `.replace(/ $/, '\u00e9'), encoding),
    ).toBeNull();
    // The text is written out in chunks of ~16 KB: the page's writes span more than one, and one
    // non-ASCII character in any one contract (early, in the middle, the last) is seen.
    expect(fromBytes.bytes.length).toBeGreaterThan(16 * 1024);
    const accepted = contracts.flatMap((c, i) => (c ? [i] : []));
    for (const k of [accepted[0], accepted[20], accepted.at(-1)]) {
      for (const ch of ['\u00e9', '\u0141', '\u{1F600}']) {
        const once = (i: number): string => (i === k ? text(i).replace('"', `"${ch}`) : text(i));
        expect(encodeAsciiPageWrites(contracts, once, encoding)).toBeNull();
      }
    }
  });

  it('refuse an epoch id that does not fit, and a contract without encoded writes', async () => {
    const contracts = await contractsOf(pageText(6000), false);
    const written = writtenOf(contracts, 1);
    const index = contractIndexWrite(keys, await encodeContractIndex(writtenIds(written)), 'x', ttl);
    expect(epochIdPlaceholder('SPX')).toHaveLength(newEpochId('SPX', Date.now()).length);
    expect(encodedSnapshotWrites(written, (c) => c.encoded, 'SPX:123:abc', index)).toBeNull();
    const [first, ...rest] = written;
    const bare = { ...first, contract: { ...first?.contract, encoded: undefined } } as WrittenContract;
    expect(encodedSnapshotWrites([bare, ...rest], (c) => c.encoded, newEpochId('SPX', 0), index)).toBeNull();
    // A contract's raw JSON is read from its encoded writes until it is set.
    const c = contracts[0] as ParsedContract;
    expect(c.rawJson?.buffer).toBe(c.encoded?.writes.bytes.buffer);
    const replaced = Buffer.from('{}');
    c.rawJson = replaced;
    expect(c.rawJson).toBe(replaced);
  });

  it('fit an epoch id by its byte length: every accepted contract, not a rejected one or one without writes', async () => {
    const contracts = await contractsOf(pageText(6000), false);
    const id = newEpochId('SPX', Date.now());
    const idBytes = Buffer.byteLength(id);
    const written = writtenOf(contracts, 1);
    expect(written.length).toBe(contracts.length - 1);
    expect(written.every((w) => encodedWriteFitsBytes(w.contract.encoded, idBytes))).toBe(true);
    expect(written.every((w) => encodedWriteFits(w.contract.encoded, id))).toBe(true);
    const first = (written[0] as WrittenContract).contract.encoded;
    expect(encodedWriteFitsBytes(first, idBytes + 1)).toBe(false);
    expect(encodedWriteFitsBytes(first, idBytes - 1)).toBe(false);
    expect(encodedWriteFitsBytes(undefined, idBytes)).toBe(false);
    // The normalizer's reject: its encoded writes are empty.
    const rejected = contracts.find((c) => !written.some((w) => w.contract === c));
    expect(rejected?.encoded).toBeDefined();
    expect(encodedWriteFitsBytes(rejected?.encoded, idBytes)).toBe(false);
  });

  it('carry the normalizer verdicts: the normalize phase need not run it again', async () => {
    const encoded = [
      ...(await contractsOf(pageText(6000), true)),
      ...(await contractsOf(pageText(7000), true)),
    ];
    // The same contracts as plain objects (the encoded ones read their fields and bytes when asked).
    const bare = encoded.map((c) => ({ ...c, fields: c.fields, rawJson: c.rawJson, encoded: undefined }));
    const snap = (contracts: ParsedContract[]): ChainSnapshot =>
      ({
        contracts,
        underlying: 'SPX',
        asOf: ASOF,
        expirations: ['2026-01-17'],
        skipped: 0,
        skippedReasons: {},
        newestVendorTs: null,
        partial: false,
        partialReasons: [],
        latencyMs: 10,
      }) as unknown as ChainSnapshot;
    const input = { burstThreshold: 10, thresholds: { slowFetchMs: 1000, staleAfterSec: 60 } };
    const fromThreads = await normalizePhase({ ...input, snapshot: snap(encoded) });
    const here = await normalizePhase({ ...input, snapshot: snap(bare) });
    expect(fromThreads.written[0]).toBeInstanceOf(AcceptedContract);
    expect(here.written[0]).not.toBeInstanceOf(AcceptedContract);
    expect(fromThreads.skippedReasons).toEqual({ negative_price: 2 });
    expect(fromThreads.skippedReasons).toEqual(here.skippedReasons);
    expect(fromThreads.geometry).toEqual(here.geometry);
    expect(fromThreads.written.map((w) => w.record)).toEqual(here.written.map((w) => w.record));
  });
});

describe('the latest fragment read in place (contractsFragmentInSlices + vendorBytesRange)', () => {
  const inPlace = (cs: readonly ParsedContract[], slice?: number): Promise<Buffer> =>
    contractsFragmentInSlices(
      {
        count: cs.length,
        ticker: (i) => (cs[i] as ParsedContract).ticker,
        bytes: (i, into) => vendorBytesRange(cs[i] as ParsedContract, into),
      },
      slice,
    );
  const reference = (cs: readonly ParsedContract[]): Buffer =>
    contractsFragment(cs.map((c) => ({ ticker: c.ticker, bytes: vendorBytes(c) })));

  it.each([
    ['on a page thread', true],
    ['inline', false],
    ['inline in two steps', 'attach'],
  ] as const)('contracts with encoded writes, %s: the bytes contractsFragment writes', async (_n, how) => {
    const contracts = await contractsOf(pageText(6800), how);
    expect(contracts.every((c) => c.encoded !== undefined)).toBe(true);
    const out = await inPlace(contracts, 7);
    expect(out.equals(reference(contracts))).toBe(true);
    // Independently: a JSON object of every contract's vendor JSON, in fetch order, the note's é intact.
    const doc = JSON.parse(`{${out.toString()}}`) as Record<
      string,
      { note: string; details: { ticker: string } }
    >;
    expect(Object.keys(doc)).toEqual(contracts.map((c) => c.ticker));
    expect(
      Object.values(doc).every((v, i) => v.details.ticker === contracts[i]?.ticker && v.note === 'délai'),
    ).toBe(true);
  });

  it('contracts without encoded writes, and tickers JSON must escape', async () => {
    const contracts: ParsedContract[] = [
      { ticker: 'O:SPXW260116C06800000', rawJson: Buffer.from('{"a" : 1.50}') },
      { ticker: 'O:"Q"\\x', raw: { details: { ticker: 'q' } } },
      { ticker: 'O:Ü', rawJson: Buffer.from('{"ü":"é"}') },
      { ticker: 'O:none' },
    ].map(
      (c) =>
        ({ root: 'X', expiration: '2026-01-16', type: 'C', strike: 1, fields: {}, ...c }) as ParsedContract,
    );
    const out = await inPlace(contracts, 1);
    expect(out.toString()).toBe(
      '"O:SPXW260116C06800000":{"a" : 1.50},"O:\\"Q\\"\\\\x":{"details":{"ticker":"q"}},"O:Ü":{"ü":"é"},"O:none":{}',
    );
    expect(out.equals(reference(contracts))).toBe(true);
    expect((await inPlace([])).length).toBe(0);
  });

  it('gives the event loop a turn between slices', async () => {
    const contracts = await contractsOf(pageText(6800), false);
    // Two passes of ceil(n / 10) slices each, a turn between consecutive slices of a pass.
    expect(await turnsDuring(() => inPlace(contracts, 10))).toBeGreaterThanOrEqual(
      2 * (Math.ceil(contracts.length / 10) - 1),
    );
  });
});
