/**
 * The pure write builders of a cycle (src/wiring/snapshot-writes.ts): the bulk commands for a snapshot,
 * a prune and a keep-alive, and the `massive:chain:latest` entry, checked against literal keys and values.
 */
import { describe, expect, it } from 'vitest';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import type { ChainSnapshot, ParsedContract } from '../../src/provider/massive/types.js';
import { vendorBytes } from '../../src/provider/massive/vendor-bytes.js';
import { KeySchema } from '../../src/redis/keys.js';
import type { BulkCommand } from '../../src/redis/resp.js';
import {
  buildKeepAliveWrites,
  buildPruneWrites,
  buildSnapshotWrites,
  latestEntry,
  writtenIds,
} from '../../src/wiring/snapshot-writes.js';

const keys = new KeySchema('p:');
const EPOCH = 'SPX:1767798000:abc123';
const TTL = { snapshotSec: 90, substrateSec: 600 };

function contract(ticker: string, over: Partial<ParsedContract> = {}): ParsedContract {
  const m = /^O:([A-Z]+)(\d\d)(\d\d)(\d\d)([CP])(\d{8})$/.exec(ticker);
  if (!m) throw new Error(ticker);
  return {
    ticker,
    root: m[1] as string,
    expiration: `20${m[2]}-${m[3]}-${m[4]}`,
    type: m[5] as 'C' | 'P',
    strike: Number(m[6]) / 1000,
    fields: {
      bid: 1,
      ask: 2,
      midpoint: 1.5,
      last: undefined,
      delta: undefined,
      gamma: undefined,
      theta: undefined,
      vega: undefined,
      iv: undefined,
      oi: 10,
      volume: undefined,
      ts: null,
    },
    ...over,
  };
}

function record(c: ParsedContract): ContractSubstrate {
  return {
    id: c.ticker,
    underlying: 'SPX',
    root: c.root,
    expiration: c.expiration,
    strike: c.strike,
    type: c.type === 'C' ? 'call' : 'put',
    bid: 1,
    ask: 2,
    mid: 1.5,
    last: null,
    delta: null,
    gamma: null,
    theta: null,
    vega: null,
    iv: null,
    oi: 10,
    volume: null,
    ts: 1767798000.123,
  };
}

const page = Buffer.from('{"results":[{"a":1.50},{"b":2}]}');
const A = contract('O:SPXW260107C06850000', { rawJson: page.subarray(12, 22) });
const B = contract('O:SPX260116P06852500', { raw: { open_interest: 7 } });
const written = [
  { contract: A, record: record(A) },
  { contract: B, record: record(B) },
];

/** Stands for an encoded index: buildSnapshotWrites writes the bytes it is given, as given. */
const INDEX = Buffer.from('packed-index');

describe('buildSnapshotWrites', () => {
  it('raw bytes under the snapshot key, the substrate under the epoch, then the index, each with its TTL', () => {
    const cmds = buildSnapshotWrites(keys, { underlying: 'SPX' }, written, EPOCH, TTL, INDEX);
    const list = [...cmds];
    expect(cmds.length).toBe(5);
    expect(list).toHaveLength(5);
    expect(list[0]).toEqual([
      'SET',
      'p:massive:chain:snapshot:SPX:20260107:C6850000',
      page.subarray(12, 22),
      'EX',
      '90',
    ]);
    // Zero-copy: the very bytes of the page, not a re-encoding (1.50 stays 1.50).
    expect((list[0] as BulkCommand)[2]).toBe(A.rawJson);
    expect(String((list[0] as BulkCommand)[2])).toBe('{"a":1.50}');
    expect(list[1]).toEqual([
      'SET',
      'p:epoch:SPX:1767798000:abc123:contract:O:SPXW260107C06850000',
      JSON.stringify(record(A)),
      'EX',
      '600',
    ]);
    // No bytes kept: the vendor object, encoded (the bytes on the wire are the same as a string's).
    expect(list[2]).toEqual([
      'SET',
      'p:massive:chain:snapshot:SPX:20260116:P6852500:SPX',
      Buffer.from('{"open_interest":7}'),
      'EX',
      '90',
    ]);
    expect(list[4]).toEqual(['SET', 'p:epoch:SPX:1767798000:abc123:contracts', INDEX, 'EX', '600']);
    expect(writtenIds(written)).toEqual(['O:SPXW260107C06850000', 'O:SPX260116P06852500']);
  });

  it('is lazy and repeatable: each iteration builds the same commands', () => {
    const cmds = buildSnapshotWrites(keys, { underlying: 'SPX' }, written, EPOCH, TTL, INDEX);
    expect([...cmds]).toEqual([...cmds]);
  });

  it('an empty snapshot writes only the index', () => {
    const cmds = buildSnapshotWrites(keys, { underlying: 'SPX' }, [], EPOCH, TTL, INDEX);
    expect(cmds.length).toBe(1);
    expect([...cmds]).toEqual([['SET', 'p:epoch:SPX:1767798000:abc123:contracts', INDEX, 'EX', '600']]);
  });
});

describe('buildPruneWrites', () => {
  it.each([
    [[], []],
    [['O:SPXW260107C06850000'], [['DEL', 'p:massive:chain:snapshot:SPX:20260107:C6850000']]],
    [
      ['O:SPX260116P06852500', 'not-a-ticker', 'O:SPXW260107C06850000'],
      [
        ['DEL', 'p:massive:chain:snapshot:SPX:20260116:P6852500:SPX'],
        ['DEL', 'p:massive:chain:snapshot:SPX:20260107:C6850000'],
      ],
    ],
  ])('%j → %j', (ids, expected) => {
    expect(buildPruneWrites(keys, 'SPX', ids)).toEqual(expected);
  });
});

describe('buildKeepAliveWrites', () => {
  it('the index, then each substrate and raw snapshot key; an id that is not a ticker keeps its substrate only', () => {
    expect(buildKeepAliveWrites(keys, 'SPX', EPOCH, ['O:SPXW260107C06850000', 'odd-id'], TTL)).toEqual([
      ['EXPIRE', 'p:epoch:SPX:1767798000:abc123:contracts', '600'],
      ['EXPIRE', 'p:epoch:SPX:1767798000:abc123:contract:O:SPXW260107C06850000', '600'],
      ['EXPIRE', 'p:massive:chain:snapshot:SPX:20260107:C6850000', '90'],
      ['EXPIRE', 'p:epoch:SPX:1767798000:abc123:contract:odd-id', '600'],
    ]);
  });

  it('with no ids keeps the index alive', () => {
    expect(buildKeepAliveWrites(keys, 'SPX', EPOCH, [], TTL)).toEqual([
      ['EXPIRE', 'p:epoch:SPX:1767798000:abc123:contracts', '600'],
    ]);
  });
});

describe('latestEntry', () => {
  const snapshot: ChainSnapshot = {
    symbol: 'I:SPX',
    underlying: 'SPX',
    asOf: Date.parse('2026-01-07T15:00:00.250Z'),
    spot: 6848.25,
    underlyingAsset: { ticker: 'I:SPX', value: 6848.25 },
    newestVendorTs: null,
    expirations: ['2026-01-07', '2026-01-08', '2026-01-16'],
    contracts: [A, B],
    pages: 7,
    retries: 1,
    skipped: 2,
    skippedReasons: { bad_ticker: 2 },
    partial: false,
    partialReasons: [],
    latencyMs: 100,
    discovery: { pages: 0, ms: 0, cached: true },
  };
  const input = { snapshot, epochId: EPOCH, health: 'healthy', contractCount: 2, written };

  it('the summary: contracts per expiration (zero kept), spot, pages, underlying asset', () => {
    const entry = JSON.parse(latestEntry(input)) as Record<string, unknown>;
    expect(entry).toEqual({
      symbol: 'I:SPX',
      underlying: 'SPX',
      as_of: 1767798000.25,
      spot: 6848.25,
      epoch_id: EPOCH,
      health: 'healthy',
      contract_count: 2,
      pages: 7,
      retries: 1,
      skipped: 2,
      partial: false,
      expirations: { '2026-01-07': 1, '2026-01-08': 0, '2026-01-16': 1 },
      underlying_asset: { ticker: 'I:SPX', value: 6848.25 },
    });
  });

  it('partial reasons when partial; no underlying_asset when none was sent', () => {
    const partial = {
      ...snapshot,
      partial: true,
      partialReasons: ['2026-01-08:page_cap'],
      underlyingAsset: null,
    };
    const entry = JSON.parse(latestEntry({ ...input, snapshot: partial })) as Record<string, unknown>;
    expect(entry.partial_reasons).toEqual(['2026-01-08:page_cap']);
    expect(entry.partial).toBe(true);
    expect('underlying_asset' in entry).toBe(false);
  });

  it('vendorBytes: the contract as fetched, byte for byte; re-serialized only without raw bytes', () => {
    expect(vendorBytes(A).toString()).toBe('{"a":1.50}');
    expect(vendorBytes(B).toString()).toBe('{"open_interest":7}');
  });
});
