import { describe, expect, it } from 'vitest';
import { KeySchema, strikeCode, underlyingOf } from '../../src/redis/keys.js';

const keys = new KeySchema();

describe('key schema (the seed contract)', () => {
  it.each([
    [
      { underlying: 'SPX', expiration: '2026-01-17', type: 'C' as const, strike: 4500, root: 'SPXW' },
      'massive:chain:snapshot:SPX:20260117:C4500000',
    ],
    [
      { underlying: 'SPX', expiration: '2026-01-16', type: 'P' as const, strike: 6852.5, root: 'SPXW' },
      'massive:chain:snapshot:SPX:20260116:P6852500',
    ],
    [
      { underlying: 'SPX', expiration: '2026-01-16', type: 'C' as const, strike: 4500, root: 'SPX' },
      'massive:chain:snapshot:SPX:20260116:C4500000:SPX',
    ],
    [
      { underlying: 'NDX', expiration: '2026-01-16', type: 'C' as const, strike: 25000, root: 'NDXP' },
      'massive:chain:snapshot:NDX:20260116:C25000000',
    ],
    [
      { underlying: 'NDX', expiration: '2026-01-16', type: 'C' as const, strike: 25000, root: 'NDX' },
      'massive:chain:snapshot:NDX:20260116:C25000000:NDX',
    ],
    [
      { underlying: 'AAPL', expiration: '2023-06-16', type: 'C' as const, strike: 150, root: 'AAPL' },
      'massive:chain:snapshot:AAPL:20230616:C150000',
    ],
  ])('snapshot key %j → %s', (parts, key) => {
    expect(keys.snapshot(parts)).toBe(key);
  });

  it('SPX AM and SPXW PM contracts with the same expiration, type and strike never collide', () => {
    const p = { underlying: 'SPX', expiration: '2026-01-16', type: 'C' as const, strike: 6850 };
    expect(keys.snapshot({ ...p, root: 'SPX' })).not.toBe(keys.snapshot({ ...p, root: 'SPXW' }));
  });

  it('names the static and epoch keys exactly as the seed', () => {
    expect(keys.epochContract('SPX:1700000000:abc', 'O:SPXW260107C06850000')).toBe(
      'epoch:SPX:1700000000:abc:contract:O:SPXW260107C06850000',
    );
    expect(keys.epochActive).toBe('epoch:active');
    expect(keys.epochMeta('SPX:1700000000:abc')).toBe('epoch:meta:SPX:1700000000:abc');
    expect(keys.epochTimeline('SPX')).toBe('epoch:timeline:SPX');
    expect(keys.epochDirty).toBe('epoch:dirty');
    expect(keys.epochClean).toBe('epoch:clean');
    expect(keys.latest).toBe('massive:chain:latest');
    expect(keys.analytics).toBe('massive:chain:analytics');
    expect(keys.analyticsSeries('fetch_latency')).toBe('massive:chain:analytics:fetch_latency');
    expect(keys.symbolCoverage).toBe('massive:chain:analytics:symbol_coverage');
    expect(keys.fetchHealth).toBe('massive:chain:analytics:fetch_health');
    expect(keys.heartbeat).toBe('massive:heartbeat');
    expect(keys.model('gex', 'SPX')).toBe('massive:models:gex:SPX');
    expect(keys.legacyModel('gex', 'SPX')).toBe('massive:gex:model:SPX');
    expect(keys.model('heatmap', 'NDX')).toBe('massive:models:heatmap:NDX');
    expect(keys.modelsChannel).toBe('massive:models');
    expect(keys.snapshotChannel).toBe('massive:chain:snapshot');
  });

  it('puts leases in the slot of epoch:active through a hash tag, prefix included', () => {
    expect(keys.workerLease('SPX')).toBe('massive:chain:lease:{epoch:active}:SPX');
    expect(new KeySchema('t:1:').workerLease('SPX')).toBe('t:1:massive:chain:lease:{t:1:epoch:active}:SPX');
  });

  it.each([
    ['I:SPX', 'SPX'],
    ['I:NDX', 'NDX'],
    ['AAPL', 'AAPL'],
  ])('underlyingOf(%s) = %s', (s, u) => expect(underlyingOf(s)).toBe(u));

  it.each([
    [4500, '4500000'],
    [6852.5, '6852500'],
    [0.5, '500'],
  ])('strikeCode(%d) = %s', (s, c) => expect(strikeCode(s)).toBe(c));
});
