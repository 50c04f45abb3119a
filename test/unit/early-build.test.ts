/** The early builds' bookkeeping (models/early-build.ts): which build a committed epoch may take. */
import { describe, expect, it } from 'vitest';
import { EarlyBuilds, metaFingerprint } from '../../src/models/early-build.js';

const META = {
  symbol: 'SPX',
  last_refresh_ts: '1764612000.123',
  as_of: '1764611999.5',
  spot: '6900.25',
  status: 'active',
  partial: '0',
  missing_expirations: '[]',
  provider: 'sim',
  writer: 'w1|3',
  geometry_hash: 'abc',
};

describe('metaFingerprint', () => {
  it.each([
    ['a field no build reads (writer)', { writer: 'w2|4' }, true],
    ['a field no build reads (geometry_hash)', { geometry_hash: 'def' }, true],
    ['spot', { spot: '6901' }, false],
    ['as_of', { as_of: '1764612000' }, false],
    ['status (dormant marks the models stale)', { status: 'dormant' }, false],
    ['partial', { partial: '1' }, false],
    ['missing_expirations', { missing_expirations: '["2026-12-04"]' }, false],
    ['provider', { provider: 'massive' }, false],
    ['last_refresh_ts', { last_refresh_ts: '1764612001' }, false],
  ])('another %s: same fingerprint = %s', (_name, change, same) => {
    expect(metaFingerprint({ ...META, ...change }) === metaFingerprint(META)).toBe(same);
  });

  it('an absent field differs from an empty one', () => {
    const { spot: _spot, ...noSpot } = META;
    expect(metaFingerprint(noSpot)).not.toBe(metaFingerprint({ ...META, spot: '' }));
  });
});

describe('EarlyBuilds', () => {
  const at = (epochId: string, refreshTs: string): Parameters<EarlyBuilds<string>['start']>[1] => ({
    epochId,
    refreshTs,
    meta: { ...META, last_refresh_ts: refreshTs },
    ts: 1,
  });

  it.each([
    ['the same epoch and refresh time', 'SPX', 'SPX:1:a', '10', 'built SPX:1:a'],
    ['another refresh time', 'SPX', 'SPX:1:a', '11', null],
    ['another epoch', 'SPX', 'SPX:2:b', '10', null],
    ['another symbol', 'NDX', 'SPX:1:a', '10', null],
  ])('take: %s → %s', async (_name, symbol, epochId, refreshTs, expected) => {
    const early = new EarlyBuilds<string>();
    early.start('SPX', at('SPX:1:a', '10'), () => Promise.resolve('built SPX:1:a'));
    const got = early.take(symbol, epochId, refreshTs);
    expect(got === null ? null : await got.result).toBe(expected);
    // A take that does not match leaves the build for its own epoch.
    expect(early.size).toBe(expected === null ? 1 : 0);
  });

  it('keeps one build per symbol: a newer offer replaces the older one', async () => {
    const early = new EarlyBuilds<string>();
    early.start('SPX', at('SPX:1:a', '10'), () => Promise.resolve('first'));
    early.start('NDX', at('NDX:1:a', '10'), () => Promise.resolve('ndx'));
    early.start('SPX', at('SPX:1:a', '12'), () => Promise.resolve('second'));
    expect(early.size).toBe(2);
    expect(early.take('SPX', 'SPX:1:a', '10')).toBeNull();
    expect(await early.take('SPX', 'SPX:1:a', '12')?.result).toBe('second');
    expect(early.take('SPX', 'SPX:1:a', '12')).toBeNull();
  });

  it('a failed build resolves to null (the epoch is then built as before)', async () => {
    const early = new EarlyBuilds<string>();
    early.start('SPX', at('SPX:1:a', '10'), () => Promise.reject(new Error('thread died')));
    expect(await early.take('SPX', 'SPX:1:a', '10')?.result).toBeNull();
  });

  it('drop forgets the build of that epoch only; clear forgets all', () => {
    const early = new EarlyBuilds<string>();
    early.start('SPX', at('SPX:1:a', '10'), () => Promise.resolve('spx'));
    early.start('NDX', at('NDX:1:a', '10'), () => Promise.resolve('ndx'));
    early.drop('SPX:1:a');
    expect(early.size).toBe(1);
    expect(early.take('SPX', 'SPX:1:a', '10')).toBeNull();
    early.clear();
    expect(early.size).toBe(0);
  });

  it('the fingerprint is of the meta it was started with', () => {
    const early = new EarlyBuilds<string>();
    early.start('SPX', at('SPX:1:a', '10'), () => Promise.resolve('x'));
    expect(early.take('SPX', 'SPX:1:a', '10')?.fingerprint).toBe(
      metaFingerprint({ ...META, last_refresh_ts: '10' }),
    );
  });
});
