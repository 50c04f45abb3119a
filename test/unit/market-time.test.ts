/**
 * Settlement instants (src/domain/market-time.ts), written out by hand in UTC: AM roots on the 09:30 New York
 * open, PM roots on the close, 16:00, or 13:00 on an NYSE early-close day (July 3, Christmas Eve, the day
 * after Thanksgiving, when trading days). EST is UTC−5, EDT UTC−4.
 */
import { describe, expect, it } from 'vitest';
import { nyDateTime, settlementInstant, yearsToSettlement } from '../../src/domain/market-time.js';

describe('settlementInstant', () => {
  it.each<[string, string, string, number]>([
    // name, root, expiration, the instant
    ['SPXW, a regular day (EST): 16:00', 'SPXW', '2026-01-16', Date.UTC(2026, 0, 16, 21, 0)],
    [
      'SPX monthly, the same third Friday: the 09:30 open',
      'SPX',
      '2026-01-16',
      Date.UTC(2026, 0, 16, 14, 30),
    ],
    ['SPXW, a regular day (EDT): 16:00', 'SPXW', '2026-07-02', Date.UTC(2026, 6, 2, 20, 0)],
    [
      'SPXW, Christmas Eve 2026 (Thu, early close): 13:00',
      'SPXW',
      '2026-12-24',
      Date.UTC(2026, 11, 24, 18, 0),
    ],
    ['SPXW, the day before (Wed): 16:00', 'SPXW', '2026-12-23', Date.UTC(2026, 11, 23, 21, 0)],
    ['NDXP, the day after Thanksgiving 2026: 13:00', 'NDXP', '2026-11-27', Date.UTC(2026, 10, 27, 18, 0)],
    ['SPXW, July 3 2025 (Thu, early close, EDT): 13:00', 'SPXW', '2025-07-03', Date.UTC(2025, 6, 3, 17, 0)],
    ['an equity root (PM) on an early close: 13:00', 'AAPL', '2026-11-27', Date.UTC(2026, 10, 27, 18, 0)],
    ['an AM root on an early-close day: still the open', 'SPX', '2026-12-24', Date.UTC(2026, 11, 24, 14, 30)],
    ['AM NDX the day after Thanksgiving: the open', 'NDX', '2026-11-27', Date.UTC(2026, 10, 27, 14, 30)],
    // July 4 2026 is a Saturday: Friday July 3 is the holiday (no session), Thursday July 2 a full day
    ['SPXW, July 3 2026 (the observed holiday): 16:00', 'SPXW', '2026-07-03', Date.UTC(2026, 6, 3, 20, 0)],
    ['not a date: NaN (never in the future)', 'SPXW', '20260116', NaN],
  ])('%s', (_, root, expiration, expected) => {
    expect(settlementInstant(expiration, root)).toBe(expected);
  });
});

describe('yearsToSettlement on an early-close day (Christmas Eve 2026, SPXW)', () => {
  it.each<[string, number, boolean]>([
    ['12:59 New York: live', Date.UTC(2026, 11, 24, 17, 59), true],
    ['13:00: settled', Date.UTC(2026, 11, 24, 18, 0), false],
    ['14:00: settled', Date.UTC(2026, 11, 24, 19, 0), false],
  ])('%s', (_, asOf, live) => {
    const t = yearsToSettlement(asOf, '2026-12-24', 'SPXW');
    expect(t > 0).toBe(live);
    expect(t).toBeCloseTo((Date.UTC(2026, 11, 24, 18, 0) - asOf) / (365 * 24 * 3_600_000), 12);
  });
});

describe('nyDateTime', () => {
  it.each<[string, string]>([
    ['2026-12-03T20:59:00Z', '2026-12-03 15:59'], // EST: UTC−5
    ['2026-12-03T21:05:00Z', '2026-12-03 16:05'],
    ['2026-12-04T04:30:00Z', '2026-12-03 23:30'], // still the 3rd in New York
    ['2026-07-01T13:30:00Z', '2026-07-01 09:30'], // EDT: UTC−4
    ['2026-03-08T07:00:00Z', '2026-03-08 03:00'], // the spring-forward hour: 02:00 does not exist
  ])('%s → %s', (iso, expected) => {
    expect(nyDateTime(Date.parse(iso))).toBe(expected);
  });
});
