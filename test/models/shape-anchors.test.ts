import { describe, expect, it } from 'vitest';
import { anchoredShapes, anchorShape } from '../../src/lib/shape-anchors.js';
import { ascending } from '../../src/lib/compare.js';
import { buildGexModel } from '../../src/models/gex/index.js';
import { SettlementClock } from '../../src/models/gex/eligibility.js';
import { SharedKernel } from '../../src/models/gex/profile.js';
import { substrate } from './substrate-fixture.js';

describe('shape anchors', () => {
  it('keeps the newest example per site and ignores missing ones', () => {
    const a = { x: 1 };
    const b = { x: 2 };
    anchorShape('test.site', a);
    anchorShape('test.site', b);
    anchorShape('test.site', undefined);
    anchorShape('test.site', null);
    expect(anchoredShapes().get('test.site')).toBe(b);
  });

  it('a GEX build anchors one object of each shape its loops depend on, never a collection', () => {
    const asOf = Date.parse('2026-01-07T15:00:00Z');
    const contracts = [6800, 6900, 7000].flatMap((strike) =>
      (['C', 'P'] as const).map((type) =>
        substrate(
          'SPXW',
          '2026-01-08',
          type,
          strike,
          { gamma: 0.001, iv: 0.15, oi: 100, volume: 10, delta: type === 'C' ? 0.5 : -0.5 },
          asOf / 1000,
        ),
      ),
    );
    buildGexModel({ symbol: 'SPX', epochId: 'e', asOf, spot: 6900, contracts, ts: asOf, stale: false });
    const kept = anchoredShapes();
    expect(kept.get('substrate')).toBe(contracts[0]);
    const gexContract = kept.get('gex.contract') as Record<string, unknown>;
    expect(Object.keys(gexContract)).toEqual([
      'expiration',
      'strike',
      'sign',
      't',
      'iv',
      'oi',
      'volume',
      'gex',
      'vanna',
      'charm',
      'delta',
    ]);
    expect(kept.get('gex.kernel')).toBeInstanceOf(SharedKernel);
    expect((kept.get('gex.kernel') as SharedKernel).a.length).toBe(0);
    expect(Object.keys(kept.get('gex.strikeSums') as object)).toEqual(['call', 'put', 'vanna', 'charm']);
    for (const v of kept.values()) expect(Array.isArray(v)).toBe(false);
  });
});

describe('SettlementClock', () => {
  const asOf = Date.parse('2026-01-07T15:00:00Z'); // 10:00 ET
  const hour = 1 / (365 * 24);
  it.each([
    // PM-settled: 16:00 ET the same day, 6 hours on.
    ['SPXW', '2026-01-07', 6 * hour],
    // The next day's PM settlement: 30 hours on.
    ['SPXW', '2026-01-08', 30 * hour],
  ])('%s %s settles in the years a clock counts', (root, expiration, years) => {
    const clock = new SettlementClock(asOf);
    expect(clock.yearsTo(root, expiration)).toBeCloseTo(years, 12);
    // Asked again: the same value (computed once per pair).
    expect(clock.yearsTo(root, expiration)).toBe(clock.yearsTo(root, expiration));
  });

  it('an unknown as-of time gives NaN', () => {
    expect(new SettlementClock(Number.NaN).yearsTo('SPXW', '2026-01-07')).toBeNaN();
  });
});

describe('ascending', () => {
  it.each([
    [
      [3, 1, 2],
      [1, 2, 3],
    ],
    [
      [10, 9, 100],
      [9, 10, 100],
    ],
    [
      [-1.5, 2, -3],
      [-3, -1.5, 2],
    ],
  ])('sorts %j numerically', (input, sorted) => {
    expect([...input].sort(ascending)).toEqual(sorted);
  });
});
