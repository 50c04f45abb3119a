/** Locale-free string helpers (src/lib/compare.ts). */
import { describe, expect, it } from 'vitest';
import { byCodeUnit, groupDigits } from '../../src/lib/compare.js';

describe('byCodeUnit', () => {
  it.each<[string[], string[]]>([
    [
      ['SPXW', 'SPX', 'NDXP', 'NDX'],
      ['NDX', 'NDXP', 'SPX', 'SPXW'],
    ],
    [
      ['worker-b', 'Worker-a', 'worker-a'],
      ['Worker-a', 'worker-a', 'worker-b'],
    ],
    [
      ['b', 'a', 'a'],
      ['a', 'a', 'b'],
    ],
  ])('sorts %j as %j', (input, sorted) => {
    expect([...input].sort(byCodeUnit)).toEqual(sorted);
  });
});

describe('groupDigits', () => {
  it.each<[number, string]>([
    [0, '0'],
    [999, '999'],
    [1000, '1,000'],
    [86_400, '86,400'],
    [1_000_000, '1,000,000'],
    [2_147_483_647, '2,147,483,647'],
  ])('%d → %s', (n, text) => {
    expect(groupDigits(n)).toBe(text);
  });
});
