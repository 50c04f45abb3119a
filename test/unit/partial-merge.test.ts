/**
 * The pure parts of merging a partial snapshot into the active epoch: which expirations are missing,
 * how fetched contracts split against the epoch, the meta fields each kind of write sets, and the bulk
 * commands of a merge (nothing deleted).
 */
import { describe, expect, it } from 'vitest';
import { metaFieldsFor, type MetaWriteInput } from '../../src/chain-worker/epoch-meta.js';
import { geometryOf } from '../../src/chain-worker/geometry.js';
import { missingExpirations, splitByGeometry } from '../../src/chain-worker/partial.js';
import type { ContractSubstrate } from '../../src/normalizers/substrate.js';
import type { ParsedContract } from '../../src/provider/massive/types.js';
import { KeySchema } from '../../src/redis/keys.js';
import { buildMergeWrites, type WrittenContract } from '../../src/wiring/snapshot-writes.js';

describe('missingExpirations', () => {
  it.each([
    [[], []],
    [['2026-01-09:failed'], ['2026-01-09']],
    [
      ['2026-01-09:page_failed', '2026-01-07:page_cap', '2026-01-09:deadline', '?:failed'],
      ['2026-01-07', '2026-01-09'],
    ],
    [['2026-01-08:next_url_loop'], ['2026-01-08']],
  ])('%j → %j', (reasons, expected) => {
    expect(missingExpirations(reasons)).toEqual(expected);
  });
});

describe('splitByGeometry', () => {
  it.each([
    [['a', 'b', 'c'], ['a', 'c'], { inside: ['a', 'c'], outside: [], kept: ['b'] }],
    [['a', 'b'], ['a', 'x', 'y'], { inside: ['a'], outside: ['x', 'y'], kept: ['b'] }],
    [['a'], [], { inside: [], outside: [], kept: ['a'] }],
    [[], ['x'], { inside: [], outside: ['x'], kept: [] }],
  ])('epoch %j, fetched %j', (epoch, fetched, expected) => {
    expect(splitByGeometry(epoch, fetched, (t) => t)).toEqual(expected);
  });
});

describe('metaFieldsFor', () => {
  const geometry = geometryOf([{ ticker: 'O:SPXW260109C06900000', strike: 6900, expiration: '2026-01-09' }]);
  const base: MetaWriteInput = {
    symbol: 'SPX',
    decision: { action: 'refresh', epochId: 'SPX:1:a' },
    geometry,
    contractCount: 1,
    expirations: ['2026-01-09'],
    spot: 6900.5,
    asOf: 1_767_798_000_000,
    health: 'ok',
    writer: 'w|1',
    provider: 'sim',
    partial: false,
    missingExpirations: [],
    nowMs: 1_767_798_001_500,
  };
  it('a complete refresh sets the geometry, status and last_complete_ts; every time in seconds', () => {
    expect(metaFieldsFor(base)).toEqual({
      symbol: 'SPX',
      last_refresh_ts: 1_767_798_001.5,
      spot: '6900.5',
      as_of: 1_767_798_000,
      last_health: 'ok',
      writer: 'w|1',
      provider: 'sim',
      partial: 0,
      missing_expirations: '[]',
      last_complete_ts: 1_767_798_001.5,
      geometry_hash: geometry.hash,
      strike_count: 1,
      expiration_count: 1,
      contract_count: 1,
      expirations: '["2026-01-09"]',
      dormant_count: 0,
      status: 'active',
    });
  });
  it('a merge into a dormant epoch leaves geometry, counts, status, dormant count and last_complete_ts alone', () => {
    const f = metaFieldsFor({
      ...base,
      decision: { action: 'merge', epochId: 'SPX:1:a', dormant: true },
      partial: true,
      missingExpirations: ['2026-01-09'],
      health: 'partial',
    });
    expect(f).toEqual({
      symbol: 'SPX',
      last_refresh_ts: 1_767_798_001.5,
      spot: '6900.5',
      as_of: 1_767_798_000,
      last_health: 'partial',
      writer: 'w|1',
      provider: 'sim',
      partial: 1,
      missing_expirations: '["2026-01-09"]',
    });
  });
  // CHAIN_DORMANT_THRESHOLD counts failed cycles in a row: a partial snapshot is a successful cycle, so it
  // ends the run of failures on an epoch that is not dormant; a dormant epoch stays dormant (and its count)
  // until a complete snapshot recovers it.
  it.each([
    ['active', false, { dormant_count: 0 }],
    ['dormant', true, {}],
  ] as const)('a merge into a %s epoch: dormant fields %j', (_name, dormant, expected) => {
    const f = metaFieldsFor({
      ...base,
      decision: { action: 'merge', epochId: 'SPX:1:a', dormant },
      partial: true,
      missingExpirations: ['2026-01-09'],
      health: 'partial',
    });
    const got: Record<string, unknown> = {};
    for (const k of ['dormant_count', 'status'] as const) if (k in f) got[k] = f[k];
    expect(got).toEqual(expected);
  });
  it('a first promotion from a partial snapshot has no last_complete_ts', () => {
    const f = metaFieldsFor({
      ...base,
      decision: { action: 'promote', prevEpochId: null, forced: false, reason: 'first' },
      partial: true,
      missingExpirations: ['2026-01-09'],
    });
    expect(f).toMatchObject({ partial: 1, created_ts: 1_767_798_001.5, forced_dirty: 0, prev_epoch: '' });
    expect(f).not.toHaveProperty('last_complete_ts');
  });
});

describe('buildMergeWrites', () => {
  const keys = new KeySchema('t:');
  const w = (ticker: string, strike: number): WrittenContract => ({
    contract: {
      ticker,
      root: 'SPXW',
      expiration: '2026-01-09',
      type: 'C',
      strike,
      rawJson: Buffer.from('{"r":1}'),
    } as unknown as ParsedContract,
    record: { id: ticker } as unknown as ContractSubstrate,
  });
  it('sets the inside contracts, raw-only the outside ones, renews the kept ones and the index; no DEL', () => {
    const cmds = buildMergeWrites(
      keys,
      'SPX',
      {
        inside: [w('O:SPXW260109C06900000', 6900)],
        outside: [w('O:SPXW260109C06905000', 6905)],
        kept: ['O:SPXW260109P06900000'],
      },
      'SPX:1:a',
      { snapshotSec: 300, substrateSec: 600 },
    );
    const list = [...cmds].map((c) => c.map(String));
    expect(list).toHaveLength(cmds.length);
    expect(list).toEqual([
      ['SET', 't:massive:chain:snapshot:SPX:20260109:C6900000', '{"r":1}', 'EX', '300'],
      [
        'SET',
        't:epoch:SPX:1:a:contract:O:SPXW260109C06900000',
        '{"id":"O:SPXW260109C06900000"}',
        'EX',
        '600',
      ],
      ['SET', 't:massive:chain:snapshot:SPX:20260109:C6905000', '{"r":1}', 'EX', '300'],
      ['EXPIRE', 't:epoch:SPX:1:a:contract:O:SPXW260109P06900000', '600'],
      ['EXPIRE', 't:massive:chain:snapshot:SPX:20260109:P6900000', '300'],
      ['EXPIRE', 't:epoch:SPX:1:a:contracts', '600'],
    ]);
  });
});
