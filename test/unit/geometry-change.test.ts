import { describe, expect, it } from 'vitest';
import { geometryChange, type GeometryDelta } from '../../src/chain-worker/geometry.js';

const C = (exp: string, strike: number, t: 'C' | 'P' = 'C'): string =>
  `O:SPXW${exp.replaceAll('-', '').slice(2)}${t}${String(strike * 1000).padStart(8, '0')}`;

const none: GeometryDelta = {
  expirations: { entered: [], left: [] },
  strikes: { entered: [], left: [] },
  contracts: { entered: 0, left: 0 },
};

describe('geometryChange', () => {
  it.each<[string, string[], string[], GeometryDelta]>([
    ['same set', [C('2026-01-02', 100)], [C('2026-01-02', 100)], none],
    ['both empty', [], [], none],
    [
      'a put added at a listed strike: a contract, no strike',
      [C('2026-01-02', 100)],
      [C('2026-01-02', 100), C('2026-01-02', 100, 'P')],
      { ...none, contracts: { entered: 1, left: 0 } },
    ],
    [
      'an expiration rolls off and one is listed',
      [C('2026-01-02', 100), C('2026-01-05', 100)],
      [C('2026-01-05', 100), C('2026-01-06', 100)],
      {
        expirations: { entered: ['2026-01-06'], left: ['2026-01-02'] },
        strikes: { entered: [], left: [] },
        contracts: { entered: 1, left: 1 },
      },
    ],
    [
      'the ladder shifts up: strikes in ascending numeric order (not text)',
      [C('2026-01-02', 95), C('2026-01-02', 100), C('2026-01-02', 99.5)],
      [C('2026-01-02', 100), C('2026-01-02', 1000), C('2026-01-02', 105)],
      {
        expirations: { entered: [], left: [] },
        strikes: { entered: [105, 1000], left: [95, 99.5] },
        contracts: { entered: 2, left: 2 },
      },
    ],
    [
      'a strike stays while any expiration lists it',
      [C('2026-01-02', 100), C('2026-01-05', 100)],
      [C('2026-01-05', 100)],
      {
        expirations: { entered: [], left: ['2026-01-02'] },
        strikes: { entered: [], left: [] },
        contracts: { entered: 0, left: 1 },
      },
    ],
    [
      'an id that is not a ticker counts as a contract only',
      ['junk'],
      [C('2026-01-02', 100)],
      {
        expirations: { entered: ['2026-01-02'], left: [] },
        strikes: { entered: [100], left: [] },
        contracts: { entered: 1, left: 1 },
      },
    ],
  ])('%s', (_name, prev, next, want) => {
    expect(geometryChange(prev, next)).toEqual(want);
  });
});
